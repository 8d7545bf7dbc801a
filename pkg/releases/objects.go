package releases

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// SecretType is the type of the Secrets that hold release records.
const SecretType corev1.SecretType = "sherpack.io/release.v1"

// object is what the Secrets and ConfigMaps drivers share: a named bag of bytes with metadata.
type object struct {
	Name, Namespace string
	Labels          map[string]string
	Annotations     map[string]string
	Data            map[string][]byte
	ResourceVersion string
}

// objectClient is the few calls the driver makes, for Secrets or ConfigMaps.
type objectClient interface {
	Create(ctx context.Context, o *object) (resourceVersion string, err error)
	Update(ctx context.Context, o *object) (resourceVersion string, err error)
	Get(ctx context.Context, ns, name string) (*object, error)
	Delete(ctx context.Context, ns, name string) error
}

type secretObjects struct{ cs kubernetes.Interface }

func (s secretObjects) toSecret(o *object) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.Labels,
			Annotations: o.Annotations, ResourceVersion: o.ResourceVersion},
		Type: SecretType, Data: o.Data,
	}
}

func (s secretObjects) Create(ctx context.Context, o *object) (string, error) {
	out, err := s.cs.CoreV1().Secrets(o.Namespace).Create(ctx, s.toSecret(o), metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}

func (s secretObjects) Update(ctx context.Context, o *object) (string, error) {
	out, err := s.cs.CoreV1().Secrets(o.Namespace).Update(ctx, s.toSecret(o), metav1.UpdateOptions{})
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}

func (s secretObjects) Get(ctx context.Context, ns, name string) (*object, error) {
	sec, err := s.cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return &object{Name: sec.Name, Namespace: sec.Namespace, Labels: sec.Labels, Annotations: sec.Annotations,
		Data: sec.Data, ResourceVersion: sec.ResourceVersion}, nil
}

func (s secretObjects) Delete(ctx context.Context, ns, name string) error {
	return s.cs.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{})
}

type configMapObjects struct{ cs kubernetes.Interface }

func (c configMapObjects) toConfigMap(o *object) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: o.Labels,
			Annotations: o.Annotations, ResourceVersion: o.ResourceVersion},
		BinaryData: o.Data,
	}
}

func (c configMapObjects) Create(ctx context.Context, o *object) (string, error) {
	out, err := c.cs.CoreV1().ConfigMaps(o.Namespace).Create(ctx, c.toConfigMap(o), metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}

func (c configMapObjects) Update(ctx context.Context, o *object) (string, error) {
	out, err := c.cs.CoreV1().ConfigMaps(o.Namespace).Update(ctx, c.toConfigMap(o), metav1.UpdateOptions{})
	if err != nil {
		return "", err
	}
	return out.ResourceVersion, nil
}

func (c configMapObjects) Get(ctx context.Context, ns, name string) (*object, error) {
	cm, err := c.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return &object{Name: cm.Name, Namespace: cm.Namespace, Labels: cm.Labels, Annotations: cm.Annotations,
		Data: cm.BinaryData, ResourceVersion: cm.ResourceVersion}, nil
}

func (c configMapObjects) Delete(ctx context.Context, ns, name string) error {
	return c.cs.CoreV1().ConfigMaps(ns).Delete(ctx, name, metav1.DeleteOptions{})
}
