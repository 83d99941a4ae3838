package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/vouchdev/vouch/attest"
)

// Private keys and their passwords, shared by generate-key-pair, sign-blob,
// attest-blob, sign and attest.

// passwordVars are read in order; the first that is set wins, even when it is
// set to the empty string (an empty password, never a prompt).
var passwordVars = []string{"VOUCH_PASSWORD", "COSIGN_PASSWORD"}

// errNoPassword is returned when a password is needed, none is in the
// environment and stdin is not a terminal to prompt on.
var errNoPassword = errors.New("the private key needs a password: set VOUCH_PASSWORD (or COSIGN_PASSWORD; empty for no password); vouch prompts for it only when stdin is a terminal")

// lookup returns an environment variable and whether it is set.
func (e *env) lookup(name string) (string, bool) {
	if e.lookupEnv != nil {
		return e.lookupEnv(name)
	}
	v := e.getenv(name)
	return v, v != ""
}

// keyPassword returns the password for a private key and where it came from
// (the variable's name, or "prompt"). From the environment when set;
// otherwise prompted for on a terminal, twice when confirm is set (a new
// key).
func keyPassword(e *env, confirm bool) ([]byte, string, error) {
	for _, name := range passwordVars {
		if v, ok := e.lookup(name); ok {
			return []byte(v), name, nil
		}
	}
	if !e.stdinIsTerminal {
		return nil, "", errNoPassword
	}
	pw, err := promptPassword(e, "Enter password for private key: ")
	if err != nil {
		return nil, "", err
	}
	if confirm {
		again, err := promptPassword(e, "Enter password for private key again: ")
		if err != nil {
			return nil, "", err
		}
		if !bytes.Equal(pw, again) {
			return nil, "", errors.New("the passwords do not match")
		}
	}
	return pw, "prompt", nil
}

// promptPassword asks on stderr and reads one line from stdin, without echo
// when stdin is a terminal device.
func promptPassword(e *env, prompt string) ([]byte, error) {
	fmt.Fprint(e.stderr, prompt)
	defer fmt.Fprintln(e.stderr)
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return term.ReadPassword(int(f.Fd()))
	}
	// Byte by byte, so that a second prompt reads the next line.
	var line []byte
	buf := make([]byte, 1)
	for len(line) <= attest.MaxKeySize {
		n, err := e.stdin.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return bytes.TrimSuffix(line, []byte("\r")), nil
			}
			line = append(line, buf[0])
		}
		if err == io.EOF {
			return line, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, errors.New("password too long")
}

// loadSigner reads the private key at path (--key) and returns a Signer for
// it, asking for a password only when the key is encrypted.
func loadSigner(e *env, path string) (*attest.Signer, error) {
	if path == "" {
		return nil, usagef("--key is required: the private key to sign with (cosign.key from `vouch generate-key-pair` or cosign)")
	}
	if strings.Contains(path, "://") {
		return nil, usagef("--key %s: vouch signs with key files only; KMS and hardware-token references are not supported", path)
	}
	pemBytes, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	var password []byte
	source := ""
	if attest.IsEncrypted(pemBytes) {
		if password, source, err = keyPassword(e, false); err != nil {
			return nil, err
		}
	}
	key, err := attest.ParsePrivateKey(pemBytes, password)
	if errors.Is(err, attest.ErrIncorrectPassword) {
		if source != "prompt" {
			return nil, fmt.Errorf("private key %s: incorrect password (taken from %s)", path, source)
		}
		return nil, fmt.Errorf("private key %s: incorrect password", path)
	}
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return attest.NewSigner(key)
}

// readKeyFile reads a key file, refusing anything larger than a key.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, attest.MaxKeySize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > attest.MaxKeySize {
		return nil, fmt.Errorf("%s is larger than %d bytes: not a key file", path, attest.MaxKeySize)
	}
	return b, nil
}
