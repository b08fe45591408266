package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/gqlchat/gqlchat/chat/bolt"
	"github.com/gqlchat/gqlchat/chat/chattest"
)

func TestStore(t *testing.T) {
	chattest.Run(t, func(t *testing.T) chattest.Backing {
		path := filepath.Join(t.TempDir(), "chat.db")
		return func(history int) chat.Store {
			s, err := bolt.Open(path, &bolt.Options{History: history})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}
