package schema

import (
	"time"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
	"github.com/graphql-go/graphql/language/ast"
)

// TimeLayout is the one shape of every Time value: RFC 3339 in UTC with
// milliseconds. graphql.DateTime varies its shape with the value.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// timeScalar is the schema's Time: it always serializes as TimeLayout, and
// reads any RFC 3339 string.
var timeScalar = graphql.NewScalar(graphql.ScalarConfig{
	Name:        "Time",
	Description: "A moment in RFC 3339 format, always in UTC with milliseconds: 2026-12-04T19:27:59.123Z.",
	Serialize: func(v any) any {
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Format(TimeLayout)
		case *time.Time:
			if t != nil {
				return t.UTC().Format(TimeLayout)
			}
		}
		return nil
	},
	ParseValue: func(v any) any {
		if s, ok := v.(string); ok {
			return parseTime(s)
		}
		return nil
	},
	ParseLiteral: func(v ast.Value) any {
		if s, ok := v.(*ast.StringValue); ok {
			return parseTime(s.Value)
		}
		return nil
	},
})

// parseTime returns the time in s, or nil (which graphql-go reports as an
// invalid value).
func parseTime(s string) any {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	return t.UTC()
}

// messageType is the seed's Message. Its resolvers read *chat.Message
// directly (graphql-go's default resolver would use reflection), and give
// strings as *string, which graphql-go serializes as they are: a string it
// formats with fmt.Sprintf, which was a fifth of the CPU of a post.
var messageType = graphql.NewObject(graphql.ObjectConfig{
	Name:        "Message",
	Description: "A chat message.",
	Fields: graphql.Fields{
		"id": &graphql.Field{
			Type:        graphql.NewNonNull(graphql.String),
			Description: "A KSUID; order comes from the store, not from IDs.",
			Resolve:     func(p graphql.ResolveParams) (any, error) { return &p.Source.(*chat.Message).ID, nil },
		},
		"user": &graphql.Field{
			Type:    graphql.NewNonNull(graphql.String),
			Resolve: func(p graphql.ResolveParams) (any, error) { return &p.Source.(*chat.Message).User, nil },
		},
		"createdAt": &graphql.Field{
			Type:    graphql.NewNonNull(timeScalar),
			Resolve: func(p graphql.ResolveParams) (any, error) { return p.Source.(*chat.Message).CreatedAt, nil },
		},
		"text": &graphql.Field{
			Type:    graphql.NewNonNull(graphql.String),
			Resolve: func(p graphql.ResolveParams) (any, error) { return &p.Source.(*chat.Message).Text, nil },
		},
	},
})
