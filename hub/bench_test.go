package hub

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/orcaprep/orcaprep/progress"
)

// BenchmarkDownload measures a full pull of a 64 MiB LFS file from the loopback fake Hub: HEAD,
// redirect, streamed write with sha256 verification, fsync, rename and symlink.
func BenchmarkDownload(b *testing.B) {
	h := newFakeHub(b)
	f := fakeFile{path: "big.parquet", data: randBytes(7, 64<<20), lfs: true}
	h.addRepo("datasets/", "Open-Orca/OpenOrca", f)
	b.SetBytes(int64(len(f.data)))
	for b.Loop() {
		b.StopTimer()
		dir, err := os.MkdirTemp("", "hub-bench-")
		if err != nil {
			b.Fatal(err)
		}
		o := Options{Endpoint: h.api.URL, CacheDir: dir, Progress: progress.Never}
		b.StartTimer()
		if _, err := Resolve(context.Background(), "hf://datasets/Open-Orca/OpenOrca/big.parquet", o); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkRawGET is the ceiling for BenchmarkDownload: the same bytes over loopback, discarded.
func BenchmarkRawGET(b *testing.B) {
	h := newFakeHub(b)
	f := fakeFile{path: "big.parquet", data: randBytes(7, 64<<20), lfs: true}
	h.addRepo("datasets/", "Open-Orca/OpenOrca", f)
	b.SetBytes(int64(len(f.data)))
	for b.Loop() {
		resp, err := http.Get(h.cdn.URL + "/lfs/" + f.sha256())
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
