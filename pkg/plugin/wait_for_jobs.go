package plugin

import (
	"strconv"

	"github.com/spf13/cobra"
)

// addWaitForJobsFlag registers --wait-for-jobs (Helm's spelling), on by default: a Job is ready
// when it has completed. --wait-for-jobs=false counts a started Job as ready.
func addWaitForJobsFlag(cmd *cobra.Command, f *OperationFlags) {
	fl := cmd.Flags()
	fl.Var(&invertedBool{p: &f.JobsReadyOnStart}, "wait-for-jobs", "Wait until Jobs have completed (a failed Job fails the operation); =false counts a started Job as ready")
	fl.Lookup("wait-for-jobs").NoOptDefVal = "true"
	fl.Lookup("wait-for-jobs").DefValue = "true"
}

// invertedBool is a boolean flag stored as its negation.
type invertedBool struct{ p *bool }

func (b *invertedBool) String() string {
	if b.p == nil {
		return "true"
	}
	return strconv.FormatBool(!*b.p)
}

func (b *invertedBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*b.p = !v
	return nil
}

func (b *invertedBool) Type() string { return "bool" }

// IsBoolFlag lets --wait-for-jobs stand alone.
func (b *invertedBool) IsBoolFlag() bool { return true }
