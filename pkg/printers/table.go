// Package printers prints releases as kubectl does (tables, and the JSON/YAML/jsonpath/
// custom-columns printers through kubectl's own machinery) and reports progress: a live view
// on a terminal, one plain line per change otherwise, or JSON events.
package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/sherpack/kubectl-sherpack/pkg/releases"
)

// Age prints a duration as kubectl does (2m, 3d).
func Age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

// ReleaseTable prints the list of releases.
func ReleaseTable(w io.Writer, ms []releases.Meta, wide, withNamespace, noHeaders bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	cols := []string{"NAME", "REVISION", "STATUS", "PACK", "APP VERSION", "UPDATED"}
	if withNamespace {
		cols = append([]string{"NAMESPACE"}, cols...)
	}
	if wide {
		cols = append(cols, "STORAGE", "DESCRIPTION")
	}
	if !noHeaders {
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	for _, m := range ms {
		row := []string{m.Name, fmt.Sprint(m.Revision), string(m.State), packString(m), orDash(m.AppVersion), Age(m.Updated)}
		if withNamespace {
			row = append([]string{m.Namespace}, row...)
		}
		if wide {
			row = append(row, m.Storage, oneLine(m.Description))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// HistoryTable prints the revisions of a release.
func HistoryTable(w io.Writer, ms []releases.Meta, noHeaders bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	if !noHeaders {
		fmt.Fprintln(tw, "REVISION\tUPDATED\tSTATUS\tPACK\tAPP VERSION\tDESCRIPTION")
	}
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", m.Revision, m.Updated.Local().Format("2006-01-02 15:04:05"), m.State,
			packString(m), orDash(m.AppVersion), oneLine(m.Description))
	}
	return tw.Flush()
}

func packString(m releases.Meta) string {
	if m.PackVersion == "" {
		return orDash(m.Pack)
	}
	return m.Pack + "-" + m.PackVersion
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
