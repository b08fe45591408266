package main

import (
	_ "embed"
	"net/http"
)

// playgroundPage is GraphQL Playground, as the seed served it at
// /playground. It loads from a CDN, so it needs the internet; it speaks the
// legacy graphql-ws protocol at /subscriptions.
//
//go:embed playground.html
var playgroundPage []byte

func servePlayground(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(playgroundPage)
}
