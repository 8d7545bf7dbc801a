package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/kubectl/pkg/cmd/get"
)

// OutputFlags are kubectl's -o: table (default), wide, json, yaml, name, jsonpath=...,
// go-template=..., custom-columns=...
type OutputFlags struct {
	Output    string
	NoHeaders bool
	print     *genericclioptions.PrintFlags
}

// AddFlags registers -o and --no-headers.
func (f *OutputFlags) AddFlags(cmd *cobra.Command, tableName string) {
	f.addOutput(cmd, tableName)
	cmd.Flags().BoolVar(&f.NoHeaders, "no-headers", false, "Do not print the header row of tables")
}

// objectFormats are the -o values of every command; tables add wide and custom-columns.
var (
	objectFormats = []string{"json", "yaml", "name", "jsonpath=", "jsonpath-as-json=", "go-template="}
	tableFormats  = append([]string{"wide", "custom-columns="}, objectFormats...)
)

func (f *OutputFlags) addOutput(cmd *cobra.Command, tableName string) {
	f.print = genericclioptions.NewPrintFlags("")
	formats, help := tableFormats, "Output format: table (default), wide, json, yaml, name, jsonpath=..., go-template=..., custom-columns=..."
	if tableName != "table" {
		formats, help = objectFormats, fmt.Sprintf("Output format: json, yaml, name, jsonpath=..., go-template=... (default: %s)", tableName)
	}
	cmd.Flags().StringVarP(&f.Output, "output", "o", "", help)
	_ = cmd.RegisterFlagCompletionFunc("output", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		out, _ := fixedCompletion(formats...)(nil, nil, toComplete)
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
}

// IsTable tells whether the human table is wanted (and whether wide).
func (f *OutputFlags) IsTable() (table, wide bool) {
	switch f.Output {
	case "", "table":
		return true, false
	case "wide":
		return true, true
	}
	return false, false
}

// Validate refuses an unknown format before any work is done.
func (f *OutputFlags) Validate() error {
	if t, _ := f.IsTable(); t {
		return nil
	}
	if _, err := f.printer(); err != nil {
		return Usagef("--output %q: %v", f.Output, err)
	}
	return nil
}

func (f *OutputFlags) printer() (printers.ResourcePrinter, error) {
	if strings.HasPrefix(f.Output, "custom-columns") {
		cc := &get.CustomColumnsPrintFlags{NoHeaders: f.NoHeaders}
		return cc.ToPrinter(f.Output)
	}
	format := f.Output
	f.print.OutputFormat = &format
	return f.print.ToPrinter()
}

// PrintObjects prints objects with kubectl's printers: one object as itself, several as a List.
func (f *OutputFlags) PrintObjects(w io.Writer, objs []*unstructured.Unstructured, single bool) error {
	pr, err := f.printer()
	if err != nil {
		return Usagef("--output %q: %v", f.Output, err)
	}
	if single && len(objs) == 1 {
		return pr.PrintObj(objs[0], w)
	}
	if f.Output == "name" || strings.HasPrefix(f.Output, "custom-columns") {
		list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List"}}
		for _, o := range objs {
			list.Items = append(list.Items, *o)
		}
		return pr.PrintObj(list, w)
	}
	items := make([]any, len(objs))
	for i, o := range objs {
		items[i] = o.Object
	}
	list := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{}}}
	return pr.PrintObj(list, w)
}
