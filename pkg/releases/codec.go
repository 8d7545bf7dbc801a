package releases

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression is how a payload is compressed. The stored bytes say which one was used (each
// format's magic number; plain JSON starts with '{'), so readers need no label to decode.
type Compression string

// The compressions a payload may use.
const (
	CompressionZstd Compression = "zstd"
	CompressionLZ4  Compression = "lz4"
	CompressionGzip Compression = "gzip"
	CompressionNone Compression = "none"
)

// ParseCompression reads a --compression value.
func ParseCompression(s string) (Compression, error) {
	switch Compression(s) {
	case CompressionZstd, CompressionLZ4, CompressionGzip, CompressionNone:
		return Compression(s), nil
	case "":
		return CompressionZstd, nil
	}
	return "", fmt.Errorf("compression %q: must be zstd, lz4, gzip or none", s)
}

var (
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicLZ4  = []byte{0x04, 0x22, 0x4d, 0x18}
	magicGzip = []byte{0x1f, 0x8b}
)

// MaxDecodedSize bounds how far a payload may expand, so a hostile object cannot exhaust memory.
const MaxDecodedSize = 256 << 20

var (
	zstdEncoders = sync.Pool{New: func() any {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
		return e
	}}
	zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxDecodedSize))
)

// Encode turns a release into its stored bytes: JSON, compressed.
func Encode(r *Release, c Compression) ([]byte, error) {
	r.SchemaVersion = SchemaVersion
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode release %s.v%d: %w", r.Name, r.Revision, err)
	}
	return Compress(raw, c)
}

// Compress compresses raw bytes with c.
func Compress(raw []byte, c Compression) ([]byte, error) {
	switch c {
	case CompressionZstd, "":
		enc := zstdEncoders.Get().(*zstd.Encoder)
		defer zstdEncoders.Put(enc)
		return enc.EncodeAll(raw, make([]byte, 0, len(raw)/4)), nil
	case CompressionLZ4:
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		if err := w.Apply(lz4.CompressionLevelOption(lz4.Level5), lz4.ChecksumOption(true)); err != nil {
			return nil, err
		}
		if _, err := w.Write(raw); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CompressionGzip:
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := w.Write(raw); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CompressionNone:
		return raw, nil
	}
	return nil, fmt.Errorf("unknown compression %q", c)
}

// DetectCompression tells from the bytes how a payload was compressed.
func DetectCompression(b []byte) (Compression, error) {
	switch {
	case bytes.HasPrefix(b, magicZstd):
		return CompressionZstd, nil
	case bytes.HasPrefix(b, magicLZ4):
		return CompressionLZ4, nil
	case bytes.HasPrefix(b, magicGzip):
		return CompressionGzip, nil
	case len(b) > 0 && b[0] == '{':
		return CompressionNone, nil
	case len(b) == 0:
		return "", errors.New("payload is empty")
	}
	return "", fmt.Errorf("payload starts with bytes % x: not zstd, lz4, gzip or JSON", b[:min(len(b), 4)])
}

// Decompress undoes Compress, whatever compression the bytes say they use.
func Decompress(b []byte) ([]byte, error) {
	c, err := DetectCompression(b)
	if err != nil {
		return nil, err
	}
	switch c {
	case CompressionZstd:
		out, err := zstdDecoder.DecodeAll(b, nil)
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return out, nil
	case CompressionLZ4:
		return readBounded(lz4.NewReader(bytes.NewReader(b)), "lz4")
	case CompressionGzip:
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return readBounded(r, "gzip")
	}
	return b, nil
}

func readBounded(r io.Reader, what string) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, MaxDecodedSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if len(out) > MaxDecodedSize {
		return nil, fmt.Errorf("%s: payload expands past %d bytes", what, MaxDecodedSize)
	}
	return out, nil
}

// Decode turns stored bytes back into a release. where names the object for error messages.
func Decode(b []byte, where string) (*Release, error) {
	raw, err := Decompress(b)
	if err != nil {
		return nil, &CorruptError{Object: where, Err: err}
	}
	var r Release
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // values keep their integers
	if err := dec.Decode(&r); err != nil {
		return nil, &CorruptError{Object: where, Err: fmt.Errorf("JSON: %w", err)}
	}
	if r.SchemaVersion > SchemaVersion {
		return nil, &CorruptError{Object: where, Err: fmt.Errorf("record schema version %d is newer than this plugin understands (%d): upgrade kubectl-sherpack", r.SchemaVersion, SchemaVersion)}
	}
	if r.SchemaVersion < 1 || r.Name == "" || r.Revision < 1 || !r.State.Valid() {
		return nil, &CorruptError{Object: where, Err: fmt.Errorf("not a release record (schemaVersion %d, name %q, revision %d, state %q)", r.SchemaVersion, r.Name, r.Revision, r.State)}
	}
	return &r, nil
}
