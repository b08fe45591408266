// Package chattest is the behaviour suite that every chat.Store must pass,
// run through chat.Service the way the transports use it.
package chattest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gqlchat/gqlchat/chat"
)

// Backing opens stores over one set of data: each call opens a new Store
// over the same data, as a restart would, keeping history messages a room.
// The Backing closes its stores when the test ends.
type Backing func(history int) chat.Store

// Run runs the suite. fresh returns a new, empty Backing for each subtest.
func Run(t *testing.T, fresh func(t *testing.T) Backing) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b Backing)
	}{
		{"PostAndHistory", testPostAndHistory},
		{"Paging", testPaging},
		{"HistoryIsBounded", testHistoryIsBounded},
		{"SurvivesRestart", testSurvivesRestart},
		{"JoinsOncePerName", testJoinsOncePerName},
		{"UsersSorted", testUsersSorted},
		{"TwoSubscribersOneName", testTwoSubscribersOneName},
		{"SlowSubscriberIsCutOff", testSlowSubscriberIsCutOff},
		{"OrderIsHistoryOrder", testOrderIsHistoryOrder},
		{"InputRules", testInputRules},
		{"TextRoundTrips", testTextRoundTrips},
		{"UnsubscribeCloses", testUnsubscribeCloses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, fresh(t)) })
	}
}

const room = chat.DefaultRoom

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func post(t *testing.T, s *chat.Service, user, text string) *chat.Message {
	t.Helper()
	m, err := s.Post(ctx(t), room, user, text)
	if err != nil {
		t.Fatalf("Post(%q, %q): %v", user, text, err)
	}
	return m
}

func history(t *testing.T, s *chat.Service, limit int, before string) []chat.Message {
	t.Helper()
	msgs, err := s.Messages(ctx(t), room, limit, before)
	if err != nil {
		t.Fatalf("Messages(%d, %q): %v", limit, before, err)
	}
	return msgs
}

// next receives one item from a subscription queue, failing after a while.
func next(t *testing.T, ch chan any) any {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return nil
}

func texts(msgs []chat.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Text)
	}
	return out
}

func testPostAndHistory(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	before := time.Now().Add(-time.Second)
	p1 := post(t, s, "ann", "one")
	p2 := post(t, s, "  bob ", "two")
	p3 := post(t, s, "ann", "three")
	if p2.User != "bob" {
		t.Errorf("stored name = %q, want it trimmed to %q", p2.User, "bob")
	}
	got := history(t, s, 50, "")
	if want := []string{"three", "two", "one"}; !slices.Equal(texts(got), want) {
		t.Fatalf("history = %q, want %q (newest first)", texts(got), want)
	}
	for i, want := range []*chat.Message{p3, p2, p1} {
		m := got[i]
		if m.ID != want.ID || m.User != want.User || m.Room != room || !m.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("history[%d] = %+v, want %+v", i, m, *want)
		}
		if len(m.ID) != 27 {
			t.Errorf("ID %q is not a KSUID", m.ID)
		}
		if m.CreatedAt.Before(before) || m.CreatedAt.After(time.Now().Add(time.Second)) || m.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt = %v, want now in UTC", m.CreatedAt)
		}
	}
	if got[0].CreatedAt.Before(got[2].CreatedAt) {
		t.Errorf("CreatedAt goes backwards in store order: %v then %v", got[2].CreatedAt, got[0].CreatedAt)
	}
	if one := history(t, s, 1, ""); len(one) != 1 || one[0].Text != "three" {
		t.Errorf("history(limit 1) = %q, want [three]", texts(one))
	}
}

func testPaging(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	var want []string
	for i := range 25 {
		want = append(want, post(t, s, "ann", fmt.Sprint(i)).Text)
	}
	slices.Reverse(want)
	var got []string
	var pages []int
	before := ""
	for range 10 {
		page := history(t, s, 10, before)
		pages = append(pages, len(page))
		if len(page) == 0 {
			break
		}
		got = append(got, texts(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged history = %q, want %q", got, want)
	}
	if !slices.Equal(pages, []int{10, 10, 5, 0}) {
		t.Errorf("page sizes = %v, want [10 10 5 0]", pages)
	}
}

func testHistoryIsBounded(t *testing.T, b Backing) {
	s := chat.NewService(b(5), nil)
	for i := range 8 {
		post(t, s, "ann", fmt.Sprint(i))
	}
	got := history(t, s, 50, "")
	if want := []string{"7", "6", "5", "4", "3"}; !slices.Equal(texts(got), want) {
		t.Fatalf("history = %q, want the 5 newest %q", texts(got), want)
	}
	if older := history(t, s, 50, got[4].ID); len(older) != 0 {
		t.Errorf("messages before the oldest kept = %q, want none", texts(older))
	}
}

func testSurvivesRestart(t *testing.T, b Backing) {
	first := b(100)
	s := chat.NewService(first, nil)
	m := post(t, s, "ann", "kept")
	if _, err := s.Join(ctx(t), room, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = chat.NewService(b(100), nil)
	got := history(t, s, 50, "")
	if len(got) != 1 || got[0].ID != m.ID || got[0].Text != "kept" {
		t.Errorf("history after restart = %+v, want the one message posted before", got)
	}
	users, err := s.Users(ctx(t), room)
	if err != nil || !slices.Equal(users, []string{"ann", "bob"}) {
		t.Errorf("users after restart = %q, %v; want [ann bob]", users, err)
	}
}

func testJoinsOncePerName(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	joins := s.UserJoined(ctx(t), room)
	for _, name := range []string{"ann", "ann", " ann "} {
		if _, err := s.Join(ctx(t), room, name); err != nil {
			t.Fatal(err)
		}
	}
	post(t, s, "ann", "hi")
	post(t, s, "bob", "hi")
	post(t, s, "bob", "again")
	if _, err := s.Join(ctx(t), room, "zed"); err != nil {
		t.Fatal(err)
	}
	var got []any
	for range 3 {
		got = append(got, next(t, joins))
	}
	if want := []any{"ann", "bob", "zed"}; !slices.Equal(got, want) {
		t.Errorf("joins = %q, want %q: each name once", got, want)
	}
}

func testUsersSorted(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	for _, name := range []string{"zoe", "Ann", "bob", "ann", "émile"} {
		if _, err := s.Join(ctx(t), room, name); err != nil {
			t.Fatal(err)
		}
	}
	post(t, s, "carl", "hi")
	users, err := s.Users(ctx(t), room)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Ann", "ann", "bob", "carl", "zoe", "émile"}; !slices.Equal(users, want) {
		t.Errorf("users = %q, want %q", users, want)
	}
}

func testTwoSubscribersOneName(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	tab1, tab2 := s.MessagePosted(ctx(t), room), s.MessagePosted(ctx(t), room)
	for _, text := range []string{"a", "b", "c"} {
		post(t, s, "ann", text)
	}
	for i, tab := range []chan any{tab1, tab2} {
		for _, want := range []string{"a", "b", "c"} {
			if m := next(t, tab).(*chat.Message); m.Text != want {
				t.Errorf("tab %d got %q, want %q", i+1, m.Text, want)
			}
		}
	}
}

func testSlowSubscriberIsCutOff(t *testing.T, b Backing) {
	const queue, posts = 8, 60
	s := chat.NewService(b(1000), &chat.ServiceOptions{QueueSize: queue})
	stalled := s.MessagePosted(ctx(t), room)
	live := s.MessagePosted(ctx(t), room)
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for v := range live {
			got = append(got, v.(*chat.Message).Text)
			if len(got) == posts {
				return
			}
		}
	}()
	var want []string
	for i := range posts {
		want = append(want, post(t, s, "ann", fmt.Sprint(i)).Text)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the live subscriber got %d of %d messages", len(got), posts)
	}
	if !slices.Equal(got, want) {
		t.Errorf("live subscriber got %q, want %q", got, want)
	}
	var items []any
	for v := range stalled {
		items = append(items, v)
	}
	if len(items) != queue+1 || !errors.Is(items[queue].(error), chat.ErrTooSlow) {
		t.Fatalf("stalled subscriber's queue = %d items ending %v, want %d messages then ErrTooSlow", len(items), items[len(items)-1], queue)
	}
	if st := s.Stats(); st.CutOff != 1 {
		t.Errorf("CutOff = %d, want 1", st.CutOff)
	}
}

func testOrderIsHistoryOrder(t *testing.T, b Backing) {
	const posters, each = 8, 25
	s := chat.NewService(b(1000), &chat.ServiceOptions{QueueSize: posters * each})
	subs := []chan any{s.MessagePosted(ctx(t), room), s.MessagePosted(ctx(t), room)}
	var wg sync.WaitGroup
	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Post(ctx(t), room, fmt.Sprint("user", p), fmt.Sprint(p, "-", i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	want := texts(history(t, s, posters*each, ""))
	slices.Reverse(want)
	for i, sub := range subs {
		var got []string
		for range posters * each {
			got = append(got, next(t, sub).(*chat.Message).Text)
		}
		if !slices.Equal(got, want) {
			t.Errorf("subscriber %d saw another order than history", i+1)
		}
	}
}

func testInputRules(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	long := strings.Repeat("é", chat.MaxTextLen)
	if _, err := s.Post(ctx(t), room, strings.Repeat("n", 32), long); err != nil {
		t.Errorf("a 32-character name and a 2000-character text: %v", err)
	}
	for _, tc := range []struct{ name, user, text string }{
		{"empty name", "", "hi"},
		{"blank name", "   ", "hi"},
		{"long name", strings.Repeat("n", 33), "hi"},
		{"control in name", "a\x07b", "hi"},
		{"newline in name", "a\nb", "hi"},
		{"invalid UTF-8 name", "a\xffb", "hi"},
		{"empty text", "ann", ""},
		{"blank text", "ann", " \n\t "},
		{"long text", "ann", long + "x"},
		{"invalid UTF-8 text", "ann", "a\xffb"},
	} {
		_, err := s.Post(ctx(t), room, tc.user, tc.text)
		if code := chat.ErrorCode(err); code != chat.Invalid {
			t.Errorf("%s: Post error = %v (code %q), want code %q", tc.name, err, code, chat.Invalid)
		}
	}
	if _, err := s.Join(ctx(t), room, ""); chat.ErrorCode(err) != chat.Invalid {
		t.Errorf("Join(\"\") error = %v, want code invalid", err)
	}
	for _, tc := range []struct {
		limit  int
		before string
	}{{0, ""}, {-1, ""}, {chat.MaxHistory + 1, ""}, {10, "not-an-id"}, {10, strings.Repeat("!", 27)}} {
		if _, err := s.Messages(ctx(t), room, tc.limit, tc.before); chat.ErrorCode(err) != chat.Invalid {
			t.Errorf("Messages(%d, %q) error = %v, want code invalid", tc.limit, tc.before, err)
		}
	}
	if msgs := history(t, s, 10, "2ZZZZZZZZZZZZZZZZZZZZZZZZZZ"); len(msgs) != 0 {
		t.Errorf("messages before an unknown ID = %q, want none", texts(msgs))
	}
	if got := history(t, s, 50, ""); len(got) != 1 {
		t.Errorf("history has %d messages after refused posts, want 1", len(got))
	}
}

func testTextRoundTrips(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	sub := s.MessagePosted(ctx(t), room)
	text := "<img src=x onerror=alert(1)> <script>alert('x')</script> & \"quotes\" \\ 😀\n\ttab\u2028 \x00nul"
	post(t, s, "ann", text)
	if got := history(t, s, 1, ""); got[0].Text != text {
		t.Errorf("stored text = %q, want %q", got[0].Text, text)
	}
	if m := next(t, sub).(*chat.Message); m.Text != text {
		t.Errorf("delivered text = %q, want %q", m.Text, text)
	}
}

func testUnsubscribeCloses(t *testing.T, b Backing) {
	s := chat.NewService(b(100), nil)
	c, cancel := context.WithCancel(context.Background())
	msgs, joins := s.MessagePosted(c, room), s.UserJoined(c, room)
	if got := s.Stats().Subscriptions; got != 2 {
		t.Fatalf("subscriptions = %d, want 2", got)
	}
	cancel()
	for _, ch := range []chan any{msgs, joins} {
		select {
		case _, ok := <-ch:
			if ok {
				t.Error("got an event after cancel, want the queue closed")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("queue not closed 5s after cancel")
		}
	}
	if got := s.Stats().Subscriptions; got != 0 {
		t.Errorf("subscriptions after cancel = %d, want 0", got)
	}
	post(t, s, "ann", "nobody listens") // must not block or panic
}
