package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// env is everything the CLI takes from the process: streams, environment
// variables and the user's directories. Tests build their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// lookupEnv tells a variable that is set but empty from an unset one
	// (an empty VOUCH_PASSWORD means an empty password). Nil: getenv decides,
	// and empty means unset.
	lookupEnv func(string) (string, bool)
	// stdinIsTerminal / stderrIsTerminal decide prompting and progress output.
	stdinIsTerminal, stderrIsTerminal bool
	// cacheDir is where on-disk caches live (TUF metadata), ~/.cache/vouch by default.
	cacheDir string
}

func defaultEnv() env {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return env{
		stdin:            os.Stdin,
		stdout:           os.Stdout,
		stderr:           os.Stderr,
		getenv:           os.Getenv,
		lookupEnv:        os.LookupEnv,
		stdinIsTerminal:  isTerminal(os.Stdin),
		stderrIsTerminal: isTerminal(os.Stderr),
		cacheDir:         filepath.Join(cache, "vouch"),
	}
}

// isTerminal asks the terminal driver: a character device such as /dev/null
// (CI jobs) is not a terminal to prompt on or draw progress to.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// command is one CLI command. Each command file registers its constructor
// with register in an init function, so commands can be added without
// touching this file.
type command func(e *env) *cli.Command

var commands []command

func register(c command) { commands = append(commands, c) }

// categories group the commands in `vouch --help`.
var categories = map[string]string{
	"verify": "Verify", "verify-attestation": "Verify", "verify-blob": "Verify", "verify-blob-attestation": "Verify",
	"sign": "Sign", "attest": "Sign", "sign-blob": "Sign", "attest-blob": "Sign", "generate-key-pair": "Sign",
	"tree": "Inspect", "resolve": "Inspect", "registry": "Inspect",
	"sbom":    "SBOM",
	"version": "Other",
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "devel"

func newApp(e env) *cli.App {
	app := &cli.App{
		Name:    "vouch",
		Usage:   "decide whether software may be trusted before it runs",
		Version: version,
		Description: `vouch verifies Sigstore signatures (keyed and keyless), in-toto / SLSA provenance and
SBOM attestations of container images and release files, and checks registry allowlists.

Exit codes, for every command:
   0  passed
   1  denied: a check ran and failed
   2  could not decide: bad usage or input, registry or network error, timeout
In a batch, denied outranks could-not-decide.

Machine-readable output: -o json on stdout. Human-readable text goes to stderr.`,
		Reader:               e.stdin,
		Writer:               e.stdout,
		ErrWriter:            e.stderr,
		EnableBashCompletion: true,
		HideVersion:          true,
		// Exit codes are decided by main, never by urfave/cli.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err.Error()}
		},
	}
	for _, c := range commands {
		cmd := c(&e)
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = app.OnUsageError
		}
		if cmd.Category == "" {
			cmd.Category = categories[cmd.Name]
		}
		app.Commands = append(app.Commands, cmd)
	}
	sort.Slice(app.Commands, func(i, j int) bool { return app.Commands[i].Name < app.Commands[j].Name })
	return app
}

// Flags shared by several commands. Names follow cosign where cosign has the concept.

const defaultTimeout = 60 * time.Second

func timeoutFlag() cli.Flag {
	return &cli.DurationFlag{
		Name:  "timeout",
		Usage: "give up (exit 2) when the whole command takes longer than this",
		Value: defaultTimeout,
	}
}

func outputFlag(formats ...string) cli.Flag {
	if len(formats) == 0 {
		formats = []string{"text", "json"}
	}
	return &cli.StringFlag{
		Name:    "output",
		Aliases: []string{"o"},
		Usage:   "output format: " + joinOr(formats),
		Value:   formats[0],
	}
}

// outputFormat returns the validated -o value.
func outputFormat(c *cli.Context, formats ...string) (string, error) {
	if len(formats) == 0 {
		formats = []string{"text", "json"}
	}
	o := c.String("output")
	for _, f := range formats {
		if o == f {
			return o, nil
		}
	}
	return "", usagef("unknown output format %q: use %s", o, joinOr(formats))
}

// withTimeout derives the command's context from --timeout.
func withTimeout(c *cli.Context) (context.Context, context.CancelFunc) {
	d := c.Duration("timeout")
	if d <= 0 {
		d = defaultTimeout
	}
	return context.WithTimeout(c.Context, d)
}

func joinOr(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := ""
	for i, v := range s {
		switch {
		case i == 0:
		case i == len(s)-1:
			out += " or "
		default:
			out += ", "
		}
		out += v
	}
	return out
}
