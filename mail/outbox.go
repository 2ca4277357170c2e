package mail

import (
	"context"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"sync"
)

// Outbox is the operator's outbox, the sender of an installation without
// SMTP: it prints each message to W (the terminal of 'passnum serve', its
// log) with its link apart, for the operator to hand over by other means.
// The message is checked as SMTP would check it, so that what is refused
// is the same with or without a server.
type Outbox struct {
	W  io.Writer
	mu sync.Mutex // one message at a time, never two interleaved
}

// outboxFrom stands in for the sender the outbox has none of.
var outboxFrom = &mail.Address{Address: "passnum@localhost"}

// Send prints m.
func (o *Outbox) Send(_ context.Context, m Message) error {
	env, err := compose(outboxFrom, m)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "---- email not sent (no SMTP server is configured): pass it on to %s ----\n", env.to)
	fmt.Fprintf(&b, "To: %s\nSubject: %s\n", m.To, m.Subject)
	if m.Link != "" {
		fmt.Fprintf(&b, "Link: %s\n", m.Link)
	}
	fmt.Fprintf(&b, "\n%s\n---- end of the email to %s ----\n", strings.TrimRight(m.Text, "\n"), env.to)
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err = io.WriteString(o.W, b.String())
	return err
}
