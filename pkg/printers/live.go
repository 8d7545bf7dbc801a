package printers

import (
	"io"
)

// NewLiveProgress is the terminal view. It prints plain lines for now; the redrawn live view
// replaces it.
func NewLiveProgress(w io.Writer) *PlainProgress { return &PlainProgress{W: w} }
