package lint

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// clusterScoped are the built-in kinds that are not namespaced.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"StorageClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true, "CustomResourceDefinition": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"PriorityClass": true, "RuntimeClass": true, "CertificateSigningRequest": true, "FlowSchema": true,
	"PriorityLevelConfiguration": true, "APIService": true, "IngressClass": true, "ComponentStatus": true,
	"VolumeAttributesClass": true, "DeviceClass": true, "ResourceSlice": true, "ClusterTrustBundle": true,
	"IPAddress": true, "ServiceCIDR": true, "StorageVersion": true, "StorageVersionMigration": true,
	"SelfSubjectReview": true, "TokenReview": true, "SubjectAccessReview": true, "SelfSubjectAccessReview": true, "SelfSubjectRulesReview": true,
}

type offlineKinds map[schema.GroupVersionKind]bool

// OfflineKinds are the kinds built into Kubernetes v1.37 (client-go's scheme, plus
// CustomResourceDefinition and APIService), for linting without a cluster.
func OfflineKinds() Kinds {
	out := offlineKinds{}
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Version == "__internal" || gvk.Kind == "" {
			continue
		}
		out[gvk] = !clusterScoped[gvk.Kind]
	}
	for _, v := range []string{"v1"} {
		out[schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: v, Kind: "CustomResourceDefinition"}] = false
		out[schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: v, Kind: "APIService"}] = false
	}
	return out
}

func (k offlineKinds) Lookup(apiVersion, kind string) (bool, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false, false
	}
	namespaced, ok := k[gv.WithKind(kind)]
	if ok && (kind == "List" || kind == "Status" || kind == "WatchEvent" || kind == "DeleteOptions" || kind == "ListOptions" ||
		kind == "GetOptions" || kind == "CreateOptions" || kind == "UpdateOptions" || kind == "PatchOptions") {
		return false, false // types of the API machinery, not objects one creates
	}
	return ok, namespaced
}

func (k offlineKinds) Source() string { return "offline list of Kubernetes v1.37 kinds" }

type mapperKinds struct{ m meta.RESTMapper }

// MapperKinds asks a cluster's discovery (through a REST mapper) which kinds it serves.
func MapperKinds(m meta.RESTMapper) Kinds { return mapperKinds{m} }

func (k mapperKinds) Lookup(apiVersion, kind string) (bool, bool) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false, false
	}
	mapping, err := k.m.RESTMapping(gv.WithKind(kind).GroupKind(), gv.Version)
	if err != nil {
		return false, false
	}
	return true, mapping.Scope.Name() == meta.RESTScopeNameNamespace
}

func (k mapperKinds) Source() string { return "cluster's discovery" }
