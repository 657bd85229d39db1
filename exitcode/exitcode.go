package exitcode

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes returned by the orcaprep binary. They are documented in the README and in `orcaprep --help`.
const (
	OK        = 0   // success
	Failure   = 1   // an unexpected failure (a bug, or an error not classified below)
	Usage     = 2   // bad flags, arguments or configuration
	Input     = 3   // bad input data: missing, unreadable, corrupt or wrong-schema file
	Output    = 4   // output problem: OUT locked by another run, not empty (use --overwrite), not orcaprep's, disk full, permission denied
	Network   = 5   // network or Hub failure after retries, or a Hub refusal (401/403/404)
	Integrity = 6   // verification failed: checksum mismatch, invalid shards, ledger does not add up
	Canceled  = 130 // interrupted (Ctrl-C)
)

// Help is the exit-code table shown in command help.
const Help = `Exit codes:
  0    success
  1    unexpected failure (please report it)
  2    bad flags, arguments or configuration
  3    bad input data (missing, corrupt, truncated or wrong-schema Parquet, bad tokenizer file)
  4    output problem (OUT in use by another run, not empty without --overwrite, not an orcaprep
       output, cannot write)
  5    network or Hugging Face Hub failure
  6    verification failed (checksum mismatch, invalid shards, ledger does not add up)
  130  interrupted`

// Error attaches an exit code to an error without changing its message.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// With wraps err so that Code(err) reports code. A nil err stays nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Errorf formats an error carrying code; %w works as in fmt.Errorf.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Code returns the exit code for err: the outermost code attached with With/Errorf,
// 130 for cancellation, 0 for nil and 1 otherwise.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	return Failure
}
