// Package resolve holds the pure rules of what applies: how the global
// layer, an account's override, its plan and the model catalog combine
// into a ModelConfig; which prompt text an account uses; how a request's
// patch merges into what is stored. No I/O here, so the same functions
// serve cached and uncached reads and are tested exhaustively. Checking
// input is internal/validate's.
package resolve
