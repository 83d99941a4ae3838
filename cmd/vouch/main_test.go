package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// run executes the CLI in-process as a user would and returns stdout, stderr
// and the exit code.
func run(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{
		stdin:    strings.NewReader(stdin),
		stdout:   &out,
		stderr:   &errb,
		getenv:   func(string) string { return "" },
		cacheDir: t.TempDir(),
	}
	err := newApp(e).RunContext(context.Background(), append([]string{"vouch"}, args...))
	code = report(&errb, err)
	return out.String(), errb.String(), code
}

type fakeDenial struct{}

func (fakeDenial) Error() string { return "denied" }
func (fakeDenial) Denied() bool  { return true }

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil passes", nil, exitOK},
		{"plain error could not decide", errors.New("boom"), exitUndecided},
		{"denial", fakeDenial{}, exitDenied},
		{"wrapped denial", fmt.Errorf("image x: %w", fakeDenial{}), exitDenied},
		{"usage", usagef("bad"), exitUndecided},
		{"batch denied outranks undecided", batchError(1, 3), exitDenied},
		{"batch undecided only", batchError(0, 2), exitUndecided},
		{"batch clean", batchError(0, 0), exitOK},
		{"context deadline", context.DeadlineExceeded, exitUndecided},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	_, stderr, code := run(t, "", "version", "--no-such-flag")
	if code != exitUndecided {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitUndecided, stderr)
	}
}

func TestUnknownOutputFormat(t *testing.T) {
	_, stderr, code := run(t, "", "version", "-o", "yaml")
	if code != exitUndecided || !strings.Contains(stderr, "text or json") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestVersionJSON(t *testing.T) {
	stdout, _, code := run(t, "", "version", "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"schemaVersion": 1`) {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
}

// Every command teaches: a usage line, a description and an example.
func TestEveryCommandHasHelpWithExample(t *testing.T) {
	app := newApp(env{})
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if len(c.Subcommands) > 0 {
				walk(name, c.Subcommands)
				continue
			}
			if c.Usage == "" || !strings.Contains(c.Description, "Example") {
				t.Errorf("%s: --help needs a usage line and an example in its description", name)
			}
		}
	}
	walk("", app.Commands)
}
