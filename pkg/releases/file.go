package releases

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// FileDriver keeps records as <dir>/<namespace>/<name>/v<revision>.yaml, mode 0600, written
// atomically (temporary file, then rename). The release lock is an OS file lock, freed by the
// kernel when its process dies.
type FileDriver struct {
	dir         string
	compression Compression
}

// DefaultFileDir is <user data dir>/sherpack/releases ($XDG_DATA_HOME or ~/.local/share).
func DefaultFileDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "sherpack", "releases")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "sherpack", "releases")
}

// NewFileDriver uses dir (created 0700 if missing). A directory that others may write to is
// refused: anyone could plant or alter release records there.
func NewFileDriver(dir string, c Compression) (*FileDriver, error) {
	if dir == "" {
		dir = DefaultFileDir()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("file storage directory %s: %w", dir, err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("file storage directory %s is writable by group or others (mode %v): run chmod go-w %s, or choose another --storage-dir", dir, st.Mode().Perm(), dir)
	}
	if c == "" {
		c = CompressionZstd
	}
	return &FileDriver{dir: dir, compression: c}, nil
}

// Name is "file".
func (f *FileDriver) Name() string { return "file" }

// fileRecord is the YAML document on disk: metadata first (list reads only that), payload last.
type fileRecord struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Meta       Meta   `json:"meta"`
	// Payload is the compressed JSON of the release, base64 so the file stays text.
	Payload string `json:"payload"`
}

func (f *FileDriver) releaseDir(ns, name string) string { return filepath.Join(f.dir, ns, name) }
func (f *FileDriver) path(ns, name string, rev int) string {
	return filepath.Join(f.releaseDir(ns, name), fmt.Sprintf("v%d.yaml", rev))
}

func (f *FileDriver) encodeFile(r *Release) ([]byte, error) {
	payload, err := Encode(r, f.compression)
	if err != nil {
		return nil, err
	}
	meta := MetaOf(r, f.Name())
	head, err := yaml.Marshal(map[string]any{"apiVersion": "sherpack.io/v1", "kind": "ReleaseRecord", "meta": meta})
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Write(head)
	b.WriteString("payload: ")
	b.WriteString(base64.StdEncoding.EncodeToString(payload))
	b.WriteString("\n")
	return b.Bytes(), nil
}

func hashOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// writeTemp writes content to a fresh 0600 file next to final and syncs it.
func writeTemp(final string, content []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-*")
	if err != nil {
		return "", err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return "", err
	}
	_, werr := tmp.Write(content)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// Create writes a new record; an existing one is never replaced (hard link fails if it exists).
func (f *FileDriver) Create(_ context.Context, r *Release) error {
	content, err := f.encodeFile(r)
	if err != nil {
		return err
	}
	final := f.path(r.Namespace, r.Name, r.Revision)
	tmp, err := writeTemp(final, content)
	if err != nil {
		return fmt.Errorf("store %s: %w", final, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &ExistsError{Object: final}
		}
		return fmt.Errorf("store %s: %w", final, err)
	}
	r.storageVersion = hashOf(content)
	return nil
}

// Update replaces a record if its content is still what was read (compared under a short lock).
func (f *FileDriver) Update(_ context.Context, r *Release) error {
	content, err := f.encodeFile(r)
	if err != nil {
		return err
	}
	final := f.path(r.Namespace, r.Name, r.Revision)
	unlock, err := flockWait(filepath.Join(f.releaseDir(r.Namespace, r.Name), ".records.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := os.ReadFile(final)
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Namespace: r.Namespace, Name: r.Name, Revision: r.Revision}
	}
	if err != nil {
		return err
	}
	if hashOf(cur) != r.storageVersion {
		return &ConflictError{Object: final, Err: errors.New("content changed since it was read")}
	}
	tmp, err := writeTemp(final, content)
	if err != nil {
		return fmt.Errorf("update %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("update %s: %w", final, err)
	}
	r.storageVersion = hashOf(content)
	return nil
}

// Get reads and decodes a record.
func (f *FileDriver) Get(_ context.Context, namespace, name string, revision int) (*Release, error) {
	p := f.path(namespace, name, revision)
	content, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Namespace: namespace, Name: name, Revision: revision}
	}
	if err != nil {
		return nil, err
	}
	var rec fileRecord
	if err := yaml.Unmarshal(content, &rec); err != nil {
		return nil, &CorruptError{Object: p, Err: err}
	}
	payload, err := base64.StdEncoding.DecodeString(rec.Payload)
	if err != nil {
		return nil, &CorruptError{Object: p, Err: fmt.Errorf("payload: %w", err)}
	}
	r, err := Decode(payload, p)
	if err != nil {
		return nil, err
	}
	r.storageVersion = hashOf(content)
	return r, nil
}

var revFile = regexp.MustCompile(`^v([0-9]+)\.yaml$`)

// List reads the metadata head of each record, never the payload.
func (f *FileDriver) List(_ context.Context, namespace, name string) ([]Meta, error) {
	nsDirs := []string{namespace}
	if namespace == "" {
		entries, err := os.ReadDir(f.dir)
		if err != nil {
			return nil, err
		}
		nsDirs = nil
		for _, e := range entries {
			if e.IsDir() {
				nsDirs = append(nsDirs, e.Name())
			}
		}
	}
	var out []Meta
	for _, ns := range nsDirs {
		names := []string{name}
		if name == "" {
			entries, err := os.ReadDir(filepath.Join(f.dir, ns))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			names = nil
			for _, e := range entries {
				if e.IsDir() {
					names = append(names, e.Name())
				}
			}
		}
		for _, n := range names {
			files, err := os.ReadDir(f.releaseDir(ns, n))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, fe := range files {
				if !revFile.MatchString(fe.Name()) {
					continue
				}
				m, err := readHead(filepath.Join(f.releaseDir(ns, n), fe.Name()))
				if err != nil {
					return nil, err
				}
				out = append(out, m)
			}
		}
	}
	SortMetas(out)
	return out, nil
}

// readHead parses the YAML before the payload line.
func readHead(p string) (Meta, error) {
	fh, err := os.Open(p)
	if err != nil {
		return Meta{}, err
	}
	defer fh.Close()
	var head bytes.Buffer
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "payload:") {
			break
		}
		head.WriteString(line)
		head.WriteByte('\n')
	}
	var rec fileRecord
	if err := yaml.Unmarshal(head.Bytes(), &rec); err != nil || rec.Meta.Name == "" {
		return Meta{}, &CorruptError{Object: p, Err: fmt.Errorf("unreadable metadata: %v", err)}
	}
	return rec.Meta, nil
}

// Delete removes a record.
func (f *FileDriver) Delete(_ context.Context, namespace, name string, revision int) error {
	err := os.Remove(f.path(namespace, name, revision))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// flockWait takes an exclusive OS lock on path, waiting for it; unlock frees it.
func flockWait(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := lockFile(fh, true); err != nil {
		fh.Close()
		return nil, err
	}
	return func() { unlockFile(fh); fh.Close() }, nil
}

type fileLock struct {
	fh         *os.File
	holderPath string
	holder     Holder
	expired    *Holder
}

// Lock takes the release's OS file lock. The holder is written next to it so that a second
// process can say who holds it, and the next holder can tell that the previous one died.
func (f *FileDriver) Lock(_ context.Context, namespace, name string, h Holder, _ time.Duration) (Lock, error) {
	dir := f.releaseDir(namespace, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	fh, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	holderPath := filepath.Join(dir, ".lock.holder")
	if err := lockFile(fh, false); err != nil {
		fh.Close()
		if errors.Is(err, errLockHeld) {
			prev, renewed := readHolder(holderPath)
			return nil, &LockedError{Namespace: namespace, Name: name, Holder: prev, RenewedAt: renewed}
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	l := &fileLock{fh: fh, holderPath: holderPath, holder: h}
	if prev, _ := readHolder(holderPath); prev.ID != "" {
		// A holder file without a live lock: its process died without releasing.
		l.expired = &prev
	}
	raw, _ := json.Marshal(h)
	tmp, err := writeTemp(holderPath, raw)
	if err == nil {
		err = os.Rename(tmp, holderPath)
	}
	if err != nil {
		_ = l.Release(context.Background())
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return l, nil
}

// LockActive tells whether a process holds the release's OS file lock, without taking it: a
// shared lock can be had only when nobody holds the exclusive one.
func (f *FileDriver) LockActive(_ context.Context, namespace, name string) (bool, error) {
	fh, err := os.Open(filepath.Join(f.releaseDir(namespace, name), ".lock"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer fh.Close()
	return lockHeld(fh)
}

func readHolder(p string) (Holder, time.Time) {
	var h Holder
	raw, err := os.ReadFile(p)
	if err != nil {
		return h, time.Time{}
	}
	_ = json.Unmarshal(raw, &h)
	st, err := os.Stat(p)
	if err != nil {
		return h, time.Time{}
	}
	return h, st.ModTime()
}

func (l *fileLock) Expired() *Holder { return l.expired }

// Durable: the OS lock lasts as long as the process, suspended or not; nobody can take it over.
func (l *fileLock) Durable() bool { return true }

// Renew marks the holder file as fresh (the OS lock itself needs no renewal).
func (l *fileLock) Renew(context.Context) error {
	now := time.Now()
	return os.Chtimes(l.holderPath, now, now)
}

// Release removes the holder file, then frees the OS lock.
func (l *fileLock) Release(context.Context) error {
	if l.fh == nil {
		return nil
	}
	err := os.Remove(l.holderPath)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	unlockFile(l.fh)
	l.fh.Close()
	l.fh = nil
	return err
}
