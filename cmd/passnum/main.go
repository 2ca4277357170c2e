// Command passnum runs a Pass numérique programme: see 'passnum --help'.
// This package only wires the others together; configuration is read here
// and nowhere else.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"passnum"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// errSilent ends the program with a non-zero status after the command has
// already said why (verify prints the rejection reason itself).
var errSilent = errors.New("silent failure")

// exitCode prints err as one line, and the code's hint (hints.go) on a
// second when it has one, and returns the process status.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errSilent):
		return 1
	}
	msg := err.Error()
	if code := passnum.ErrorCode(err); code != passnum.EInternal {
		msg = passnum.ErrorMessage(err)
	}
	fmt.Fprintln(os.Stderr, "passnum: "+msg)
	if hint := hints[passnum.ErrorCode(err)]; hint != "" {
		fmt.Fprintln(os.Stderr, "passnum: hint: "+hint)
	}
	return 1
}
