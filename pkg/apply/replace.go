package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
)

// ImmutableFieldError is an apply the server refused because it changes immutable fields.
type ImmutableFieldError struct {
	Object string   // Kind/namespace/name
	Fields []string // as the server names them (spec.selector, data, ...)
	Err    error
}

func (e *ImmutableFieldError) Error() string {
	return fmt.Sprintf("%s: the API server refuses to change immutable field(s) %s. Re-run with --force-replace to delete "+
		"and recreate the object (it is briefly absent), or change the field back: %v", e.Object, strings.Join(e.Fields, ", "), e.Err)
}

func (e *ImmutableFieldError) Unwrap() error { return e.Err }

// immutableFields are the fields an Invalid answer calls immutable (none: another refusal).
func immutableFields(err error) []string {
	if !apierrors.IsInvalid(err) {
		return nil
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil {
		return nil
	}
	var fields []string
	for _, c := range st.Status().Details.Causes {
		if strings.Contains(c.Message, "immutable") {
			fields = append(fields, c.Field)
		}
	}
	return fields
}

// immutable handles an apply error: an immutable-field refusal is named (and with
// --force-replace the object is deleted, awaited until gone, and applied again); anything else
// is returned as it is.
func (c *Client) immutable(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, body []byte, opts metav1.PatchOptions, err error) (*unstructured.Unstructured, error) {
	fields := immutableFields(err)
	if len(fields) == 0 {
		return nil, err
	}
	who := obj.GetKind() + "/" + obj.GetName()
	if ns := obj.GetNamespace(); ns != "" {
		who = obj.GetKind() + "/" + ns + "/" + obj.GetName()
	}
	if !c.CLIOptions.ForceReplace || len(opts.DryRun) > 0 {
		return nil, &ImmutableFieldError{Object: who, Fields: fields, Err: err}
	}
	fg := metav1.DeletePropagationForeground
	if derr := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &fg}); derr != nil && !apierrors.IsNotFound(derr) {
		return nil, fmt.Errorf("%s: --force-replace could not delete it: %w", who, derr)
	}
	if werr := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, gerr := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(gerr) {
			return true, nil
		}
		return false, nil
	}); werr != nil {
		return nil, fmt.Errorf("%s: --force-replace deleted it, but it was still there when the operation's time ran out: %w", who, werr)
	}
	return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
}
