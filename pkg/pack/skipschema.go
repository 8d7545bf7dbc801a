package pack

// ResolveValuesUnvalidated is ResolveValues without the check against the schemas (Helm's
// --skip-schema-validation). The schemas' defaults still apply: only the validation is skipped.
func (pk *Pack) ResolveValuesUnvalidated(user []Layer) (*Resolved, error) {
	defaults, err := pk.defaultLayers("", "")
	if err != nil {
		return nil, err
	}
	values, prov := Merge(append(defaults, user...)...)
	userValues, _ := Merge(user...)
	return &Resolved{Values: values, User: userValues, Provenance: prov}, nil
}
