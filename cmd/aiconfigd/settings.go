package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// settings declares each setting once: a flag, the environment variable
// that sets its default, and the built-in default. A bad environment
// value is reported as one line naming the variable.
type settings struct {
	fs   *flag.FlagSet
	errs []error
}

func newSettings(name string, out io.Writer) *settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: aiconfigd %s [flags]\n\nEvery flag can also be set by the environment variable named beside it;\nthe flag wins. Secret keys are read from the environment only.\n\n", name)
		fs.PrintDefaults()
	}
	return &settings{fs: fs}
}

func (s *settings) env(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok && v != ""
}

func (s *settings) String(flagName, envName, def, usage string) *string {
	if v, ok := s.env(envName); ok {
		def = v
	}
	return s.fs.String(flagName, def, usage+" (env "+envName+")")
}

// OptionalString is String for a setting whose empty value means "off"
// (an address to leave unserved): the variable set but empty counts.
func (s *settings) OptionalString(flagName, envName, def, usage string) *string {
	if v, ok := os.LookupEnv(envName); ok {
		def = v
	}
	return s.fs.String(flagName, def, usage+" (env "+envName+")")
}

func (s *settings) Int(flagName, envName string, def int, usage string) *int {
	if v, ok := s.env(envName); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %q is not a whole number", envName, v))
		} else {
			def = n
		}
	}
	return s.fs.Int(flagName, def, usage+" (env "+envName+")")
}

func (s *settings) Float(flagName, envName string, def float64, usage string) *float64 {
	if v, ok := s.env(envName); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			s.errs = append(s.errs, fmt.Errorf("%s: %q is not a positive number", envName, v))
		} else {
			def = f
		}
	}
	return s.fs.Float64(flagName, def, usage+" (env "+envName+")")
}

func (s *settings) Duration(flagName, envName string, def time.Duration, usage string) *time.Duration {
	if v, ok := s.env(envName); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %q is not a duration (e.g. 500ms, 3s, 30m)", envName, v))
		} else {
			def = d
		}
	}
	return s.fs.Duration(flagName, def, usage+" (env "+envName+")")
}

func (s *settings) Bool(flagName, envName string, def bool, usage string) *bool {
	if v, ok := s.env(envName); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: %q is not true or false", envName, v))
		} else {
			def = b
		}
	}
	return s.fs.Bool(flagName, def, usage+" (env "+envName+")")
}

// errHelp means --help was asked for and shown: not a failure.
var errHelp = errors.New("help shown")

// Parse reads the command line; environment errors come first.
func (s *settings) Parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	if s.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", s.fs.Arg(0))
	}
	return nil
}
