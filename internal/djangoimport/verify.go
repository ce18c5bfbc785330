package djangoimport

import (
	"context"
	"errors"
	"io"

	"github.com/igny8/aiconfig/internal/store"
)

// VerifyResult counts what --verify compared.
type VerifyResult struct {
	Compared, Equal, Unexplained int
	Explained                    map[string]int
}

// Verify compares aiconfig's answers with the legacy code's.
func Verify(ctx context.Context, st *store.Store, r io.Reader, opt Options) (VerifyResult, error) {
	return VerifyResult{}, errors.New("verify: not yet implemented")
}
