package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp(defaultEnv()).RunContext(ctx, os.Args)
	stop()
	os.Exit(report(os.Stderr, err))
}
