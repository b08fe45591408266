package schema

import (
	"context"

	"github.com/gqlchat/gqlchat/chat"
	"github.com/graphql-go/graphql"
)

// root builds the Query, Mutation and Subscription objects over svc. Every
// resolver runs inside g, every Subscribe inside gs.
func root(svc *chat.Service, g, gs func(string, graphql.FieldResolveFn) graphql.FieldResolveFn) graphql.SchemaConfig {
	const room = chat.DefaultRoom
	nonNullString := graphql.NewNonNull(graphql.String)
	userArg := graphql.FieldConfigArgument{
		"user": {Type: nonNullString, Description: "The subscriber's name; subscribing joins it."},
	}

	query := graphql.NewObject(graphql.ObjectConfig{Name: "Query", Fields: graphql.Fields{
		"messages": &graphql.Field{
			Type:        graphql.NewNonNull(graphql.NewList(graphql.NewNonNull(messageType))),
			Description: "Messages, newest first: at most limit (1-500) older than the message whose id is before.",
			Args: graphql.FieldConfigArgument{
				"limit":  {Type: graphql.Int, DefaultValue: 50},
				"before": {Type: graphql.String},
			},
			Resolve: g("messages", func(p graphql.ResolveParams) (any, error) {
				limit, _ := p.Args["limit"].(int)
				before, _ := p.Args["before"].(string)
				msgs, err := svc.Messages(p.Context, room, limit, before)
				if err != nil {
					return nil, err
				}
				out := make([]*chat.Message, len(msgs))
				for i := range msgs {
					out[i] = &msgs[i]
				}
				return out, nil
			}),
		},
		"users": &graphql.Field{
			Type:        graphql.NewNonNull(graphql.NewList(nonNullString)),
			Description: "Every name that ever joined, sorted.",
			Resolve: g("users", func(p graphql.ResolveParams) (any, error) {
				users, err := svc.Users(p.Context, room)
				if err != nil {
					return nil, err
				}
				return stringPointers(users), nil
			}),
		},
	}})

	mutation := graphql.NewObject(graphql.ObjectConfig{Name: "Mutation", Fields: graphql.Fields{
		"postMessage": &graphql.Field{
			Type:        messageType,
			Description: "Posts a message, joining user when the name is new. Names: 1-32 characters; text: 1-2000.",
			Args: graphql.FieldConfigArgument{
				"user": {Type: nonNullString},
				"text": {Type: nonNullString},
			},
			Resolve: g("postMessage", func(p graphql.ResolveParams) (any, error) {
				user, _ := p.Args["user"].(string)
				text, _ := p.Args["text"].(string)
				return svc.Post(p.Context, room, user, text)
			}),
		},
	}})

	// Subscription fields follow graphql-go's contract: Subscribe returns
	// exactly chan interface{}, and Resolve maps each event (the root value
	// of its execution) to the field's value.
	subscription := graphql.NewObject(graphql.ObjectConfig{Name: "Subscription", Fields: graphql.Fields{
		"messagePosted": &graphql.Field{
			Type:        graphql.NewNonNull(messageType),
			Description: "Every message posted after the subscription started.",
			Args:        userArg,
			Resolve:     g("event", event),
			Subscribe:   gs("messagePosted", joinThen(svc, svc.MessagePosted)),
		},
		"userJoined": &graphql.Field{
			Type:        nonNullString,
			Description: "Every name that joins for the first time after the subscription started.",
			Args:        userArg,
			Resolve:     g("event", event),
			Subscribe:   gs("userJoined", joinThen(svc, svc.UserJoined)),
		},
	}})

	return graphql.SchemaConfig{Query: query, Mutation: mutation, Subscription: subscription}
}

// joinThen is a subscription's Subscribe: it joins the subscriber, then
// returns the stream, whose type is exactly chan interface{} as graphql-go
// requires. (A shared subscription joins each subscriber in its Start too;
// joining a known name costs nothing.)
func joinThen(svc *chat.Service, stream func(context.Context, string) chan any) graphql.FieldResolveFn {
	return func(p graphql.ResolveParams) (any, error) {
		if _, err := svc.Join(p.Context, chat.DefaultRoom, p.Args["user"].(string)); err != nil {
			return nil, err
		}
		return stream(p.Context, chat.DefaultRoom), nil
	}
}

// event resolves a subscription field to its event. The broker ends a
// subscriber's queue with an error (chat.ErrTooSlow) when it cuts it off.
func event(p graphql.ResolveParams) (any, error) {
	switch e := p.Source.(type) {
	case error:
		return nil, e
	case string:
		return &e, nil // see messageType on *string
	}
	return p.Source, nil
}

// stringPointers returns pointers to the strings of s, which graphql-go
// serializes without formatting them (see messageType).
func stringPointers(s []string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}
