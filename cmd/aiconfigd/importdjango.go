package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/djangoimport"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
)

// exitError is a failure with its own exit status (import-django: 1 when
// --verify finds unexplained differences, 2 for anything it cannot use).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

type importDjangoCmd struct {
	dbFlag
	Mapping      string `name:"mapping" placeholder:"FILE" type:"existingfile" help:"YAML mapping read over the default (--print-mapping shows it)."`
	PrintMapping bool   `name:"print-mapping" help:"Print the default mapping and exit."`
	Apply        bool   `name:"apply" help:"Write the changes (one revision, audited, one change event). Without it: a dry run."`
	Verify       bool   `name:"verify" help:"Compare, for every account, function and prompt type, aiconfig's answer with the legacy code's; exit 1 on a difference the note's rules do not explain."`
	AllowUnknown bool   `name:"allow-unknown" help:"Warn about dump fields the mapping neither maps nor ignores, instead of stopping."`
	Dump         string `arg:"" optional:"" placeholder:"DUMP" help:"manage.py dumpdata JSON of the four settings models, the account and the plan; - reads standard input."`
}

func (importDjangoCmd) Help() string {
	return `Moves the platform's settings from its Django models (SPEC 18). Dump them with

  python manage.py dumpdata system.GlobalIntegrationSettings system.IntegrationSettings \
      system.GlobalAIPrompt system.AIPrompt accounts.Account billing.Plan > dump.json

then run a dry run (counts, every warning, the global layer's field diff), --apply, and --verify.
API keys in the dump are sealed with AICONFIG_SECRET_KEY. Exit status: 0 done, 1 --verify found
unexplained differences, 2 the dump, mapping or database could not be used.`
}

func (c *importDjangoCmd) Run(e *env) error {
	if err := c.run(e); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return &exitError{code: 2, err: err}
	}
	return nil
}

func (c *importDjangoCmd) run(e *env) error {
	if c.PrintMapping {
		_, err := e.stdout.Write(djangoimport.DefaultMapping())
		return err
	}
	if c.Dump == "" {
		return errors.New("name the dump file (or - for standard input)")
	}
	if c.Apply && c.Verify {
		return errors.New("--apply and --verify are separate steps: apply first, then verify")
	}
	m, err := djangoimport.LoadMapping(c.Mapping)
	if err != nil {
		return err
	}
	keys, err := secret.FromEnv()
	if err != nil {
		return err
	}
	in, closeIn, err := c.open(e)
	if err != nil {
		return err
	}
	defer closeIn()
	ctx := audit.WithCall(cliContext("import-django"), audit.Call{Actor: domain.Principal{Name: djangoimport.Actor}, RPC: "cli:import-django"})
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	opt := djangoimport.Options{Mapping: m, Apply: c.Apply, AllowUnknown: c.AllowUnknown, Keys: keys, Out: e.stdout, Err: e.stderr}
	if c.Verify {
		res, err := djangoimport.Verify(ctx, st, in, opt)
		if err != nil {
			return err
		}
		if res.Unexplained > 0 {
			return &exitError{code: 1, err: fmt.Errorf("verify: %d unexplained differences", res.Unexplained)}
		}
		return nil
	}
	_, err = djangoimport.Import(ctx, st, in, opt)
	return err
}

func (c *importDjangoCmd) open(e *env) (io.Reader, func(), error) {
	if c.Dump == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(c.Dump)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}
