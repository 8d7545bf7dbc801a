package apply

// CLIOptions are per-invocation choices of the user that change how objects are sent.
type CLIOptions struct {
	// FieldManager replaces the default field manager ("sherpack") for server-side apply
	// (--field-manager). Drift reports still treat only "sherpack" as the release's own manager.
	FieldManager string
	// ForceReplace deletes and recreates an object whose immutable fields the release changes,
	// instead of failing (--force-replace).
	ForceReplace bool
}

func (c *Client) fieldManager() string {
	if c.CLIOptions.FieldManager != "" {
		return c.CLIOptions.FieldManager
	}
	return FieldManager
}
