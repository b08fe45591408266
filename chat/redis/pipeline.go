package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/gqlchat/gqlchat/chat"
	goredis "github.com/redis/go-redis/v9"
)

// posting is one post waiting for the committer.
type posting struct {
	ctx  context.Context // its deadline is the post's
	msg  *chat.Message
	keys keys

	sid    streamID
	joined bool
	err    error
	done   chan struct{}
}

// maxPipeline bounds how many posts share one pipeline.
const maxPipeline = 256

// commit is the one goroutine that sends posts. It takes every post
// waiting and sends them as one pipeline: one write and one read for all,
// where Redis also serves a pipeline of scripts for less than the same
// scripts one by one. A pipeline's commands run in order, so a batch's
// order is the store's.
func (s *Store) commit() {
	defer close(s.committed)
	batch := make([]*posting, 0, maxPipeline)
	for {
		batch = batch[:0]
		select {
		case p := <-s.posts:
			batch = append(batch, p)
		case <-s.ctx.Done():
			return
		}
	more:
		for len(batch) < maxPipeline {
			select {
			case p := <-s.posts:
				batch = append(batch, p)
			default:
				break more
			}
		}
		s.send(batch)
		for _, p := range batch {
			close(p.done)
		}
	}
}

// send runs a batch. Each post keeps its own deadline: one already past is
// answered without being sent, and the pipeline ends by the earliest.
func (s *Store) send(batch []*posting) {
	live := make([]*posting, 0, len(batch))
	var deadline time.Time
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			continue
		}
		live = append(live, p)
		if d, ok := p.ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
			deadline = d
		}
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithDeadline(s.ctx, deadline)
	defer cancel()
	cmds := s.pipeline(ctx, live)
	if noScript(cmds) {
		// Redis lost its scripts (a restart): load it and send again. The
		// script is idempotent by message ID, so posts that ran do not run
		// twice.
		if err := postScript.Load(ctx, s.client).Err(); err != nil {
			for _, p := range live {
				p.err = err
			}
			return
		}
		cmds = s.pipeline(ctx, live)
	}
	for i, p := range live {
		p.sid, p.joined, p.err = postResult(cmds[i])
	}
}

// pipeline sends one EVALSHA of postScript for each post.
func (s *Store) pipeline(ctx context.Context, posts []*posting) []*goredis.Cmd {
	cmds := make([]*goredis.Cmd, len(posts))
	s.client.Pipelined(ctx, func(pipe goredis.Pipeliner) error {
		for i, p := range posts {
			k := p.keys
			cmds[i] = postScript.EvalSha(ctx, pipe, []string{k.messages, k.ids, k.users, k.joins},
				p.msg.ID, p.msg.User, p.msg.Text, s.history, joinsHistory, s.history/64)
		}
		return nil
	})
	return cmds
}

func noScript(cmds []*goredis.Cmd) bool {
	for _, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// postResult reads postScript's answer: {stream ID, 1 if joined}.
func postResult(cmd *goredis.Cmd) (streamID, bool, error) {
	res, err := cmd.Slice()
	if err != nil {
		return streamID{}, false, err
	}
	if len(res) != 2 {
		return streamID{}, false, fmt.Errorf("unexpected answer %v", res)
	}
	sid, _ := res[0].(string)
	at, err := parseID(sid)
	return at, res[1] == int64(1), err
}
