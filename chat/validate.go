package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a client may send. They are part of the contract: clients
// show the same limits to people.
const (
	MaxNameLen = 32   // characters, after trimming spaces
	MaxTextLen = 2000 // characters
	// MaxHistory is the most messages one history request returns.
	MaxHistory = 500
)

// ValidName trims name and checks it: 1-32 characters, valid UTF-8, and no
// control characters (they break logs and user lists). It returns the name
// to store.
func ValidName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return "", Errorf(Invalid, "name is not valid UTF-8")
	case n == 0:
		return "", Errorf(Invalid, "name is empty")
	case n > MaxNameLen:
		return "", Errorf(Invalid, "name is longer than %d characters", MaxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "", Errorf(Invalid, "name contains a control character")
	}
	return name, nil
}

// ValidText checks a message text: 1-2000 characters, valid UTF-8, not only
// white space. The text is stored as given, so that it round-trips byte for
// byte.
func ValidText(text string) error {
	switch {
	case !utf8.ValidString(text):
		return Errorf(Invalid, "text is not valid UTF-8")
	case strings.TrimSpace(text) == "":
		return Errorf(Invalid, "text is blank")
	case utf8.RuneCountInString(text) > MaxTextLen:
		return Errorf(Invalid, "text is longer than %d characters", MaxTextLen)
	}
	return nil
}

// ValidLimit checks the size of a history page.
func ValidLimit(limit int) error {
	if limit < 1 || limit > MaxHistory {
		return Errorf(Invalid, "limit must be between 1 and %d", MaxHistory)
	}
	return nil
}
