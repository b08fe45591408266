package schema

import (
	"sync"

	"github.com/graphql-go/graphql/gqlerrors"
	"github.com/graphql-go/graphql/language/ast"
)

// cache keeps parsed documents with their validation errors, keyed by the
// query text, so that a repeated query is parsed and validated once. It
// keeps two generations: when the current one fills, it becomes the old
// one, and what is still used is promoted back. That is nearly LRU at the
// cost of two maps.
type cache struct {
	size int

	mu       sync.Mutex
	cur, old map[string]*parsed
}

// parsed is a document that was parsed and validated; errs is empty when it
// passed. plans holds each operation's plan, or nil (see plan).
type parsed struct {
	doc   *ast.Document
	errs  []gqlerrors.FormattedError
	plans map[*ast.OperationDefinition]*plan
}

func newCache(size int) *cache {
	return &cache{size: size, cur: map[string]*parsed{}}
}

func (c *cache) get(query string) *parsed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[query]; ok {
		return p
	}
	if p, ok := c.old[query]; ok {
		c.putLocked(query, p)
		return p
	}
	return nil
}

func (c *cache) put(query string, p *parsed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(query, p)
}

func (c *cache) putLocked(query string, p *parsed) {
	if len(c.cur) >= c.size {
		c.old, c.cur = c.cur, make(map[string]*parsed, c.size)
	}
	c.cur[query] = p
}
