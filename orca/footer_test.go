package orca

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// footerFile builds a file with the given footer bytes between the PAR1 magics.
func footerFile(footer []byte) []byte {
	b := append([]byte("PAR1"), bytes.Repeat([]byte{0}, 100)...)
	b = append(b, footer...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(footer)))
	return append(b, "PAR1"...)
}

func TestCheckFooterRefusesSizesBeyondTheFile(t *testing.T) {
	good, err := os.ReadFile("../testdata/parquet/duckdb-zstd.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkFooter(bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("DuckDB's footer refused: %v", err)
	}
	hostile := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(hostile[len(hostile)-8:], 0x7fffffff)
	cases := map[string]struct {
		file []byte
		want string
	}{
		"length beyond file": {hostile, "length field says 2147483647 bytes"},
		"tiny":               {[]byte("PAR1PAR1"), "too small"},
		// struct { 1: list<struct> of 2^31-1 elements }: parquet-go would make the slice before reading one.
		"huge list":   {footerFile([]byte{0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00}), "list of 2147483647 elements"},
		"huge string": {footerFile([]byte{0x18, 0xff, 0xff, 0xff, 0xff, 0x07, 'a', 0x00}), "string of 2147483647 bytes"},
		"huge map":    {footerFile([]byte{0x1b, 0xff, 0xff, 0xff, 0xff, 0x07, 0x88, 0x00}), "map of 2147483647 entries"},
		"no stop":     {footerFile([]byte{0x15, 0x02}), "ends inside a value"},
		"deep":        {footerFile(append(bytes.Repeat([]byte{0x1c}, 100), bytes.Repeat([]byte{0}, 101)...)), "nested deeper"},
		"bad type":    {footerFile([]byte{0x1e, 0x00}), "unknown thrift type 14"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := checkFooter(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// A footer the walker accepts: struct {1: i32 5, 2: list<binary> ["ab"], 3: bool true} — each field type once.
	ok := footerFile([]byte{0x15, 0x0a, 0x19, 0x18, 0x02, 'a', 'b', 0x11, 0x00})
	if _, err := checkFooter(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Fatalf("valid footer refused: %v", err)
	}
}

func TestOpenRefusesBinaryAndNestedColumns(t *testing.T) {
	dir := t.TempDir()
	type blobRow struct {
		ID           string `parquet:"id"`
		SystemPrompt string `parquet:"system_prompt"`
		Question     []byte `parquet:"question"` // parquet-go writes []byte as an unannotated BYTE_ARRAY
		Response     string `parquet:"response"`
	}
	type jsonRow struct {
		ID           string `parquet:"id"`
		SystemPrompt string `parquet:"system_prompt"`
		Question     string `parquet:"question,json"`
		Response     string `parquet:"response,enum"`
	}
	type repRow struct {
		ID           string   `parquet:"id"`
		SystemPrompt string   `parquet:"system_prompt"`
		Question     []string `parquet:"question"`
		Response     string   `parquet:"response"`
	}
	write := func(name string, rows any) string {
		p := filepath.Join(dir, name)
		var err error
		switch r := rows.(type) {
		case []blobRow:
			err = parquet.WriteFile(p, r)
		case []jsonRow:
			err = parquet.WriteFile(p, r)
		case []repRow:
			err = parquet.WriteFile(p, r)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		path, want string
	}{
		{write("blob.parquet", []blobRow{{"flan.1", "", []byte("q"), "r"}}), `column "question" is binary`},
		{write("rep.parquet", []repRow{{"flan.1", "", []string{"q"}, "r"}}), `column "question" is repeated`},
		{"../testdata/parquet/bad-question-list.parquet", `column "question" is a nested LIST column`},
		{"../testdata/parquet/bad-question-struct.parquet", `column "question" is a nested STRUCT column`},
		{"../testdata/parquet/bad-question-blob.parquet", `column "question" is binary`},
		{"../testdata/parquet/bad-question-int64.parquet", `column "question" has type INT(64,true)`},
	} {
		_, err := Open(c.path, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
			t.Errorf("%s: got %v, want %q", c.path, err, c.want)
		}
	}
	// JSON and ENUM annotate UTF-8 text: accepted.
	f, err := Open(write("json.parquet", []jsonRow{{"flan.1", "", `{"q":1}`, "A"}}), 0)
	if err != nil {
		t.Fatalf("JSON/ENUM string columns refused: %v", err)
	}
	f.Close()
}

// A page header claiming more data than its column chunk holds is refused at Open, before parquet-go
// allocates the claimed size (2 GiB here); every real file's pages pass (TestFixturesFromOtherWriters).
func TestOpenRefusesPageLargerThanItsChunk(t *testing.T) {
	_, err := Open("../testdata/parquet/bad-page-size.parquet", 0)
	if err == nil || !strings.Contains(err.Error(), `column "id": corrupt page header at byte 4: the page claims 2147483647 bytes of data, the column chunk has 404 left`) {
		t.Fatalf("got %v", err)
	}
	// A header too long for the first read (large statistics) is read further, not refused.
	var hdr []byte
	hdr = append(hdr, 0x15, 0x00, 0x15, 0x08, 0x15, 0x08) // type 0, uncompressed 4, compressed 4
	hdr = append(hdr, 0x2c)                               // field 5: struct (data_page_header)
	hdr = append(hdr, 0x15, 0x02)                         // its field 1: num_values 1
	hdr = append(hdr, 0x4c)                               // its field 5: struct (statistics)
	hdr = append(hdr, 0x18, 0xa0, 0x9c, 0x01)             // statistics field 1 (max): binary of 20000 bytes
	hdr = append(hdr, bytes.Repeat([]byte{'x'}, 20000)...)
	hdr = append(hdr, 0x00, 0x00, 0x00) // end of the statistics, the data page header and the header
	chunk := append(hdr, 1, 2, 3, 4)
	if _, err := checkChunkPages(bytes.NewReader(chunk), 0, int64(len(chunk)), nil); err != nil {
		t.Fatalf("long header refused: %v", err)
	}
	if _, err := checkChunkPages(bytes.NewReader(chunk[:len(chunk)-1]), 0, int64(len(chunk)-1), nil); err == nil {
		t.Fatal("a page reaching past its chunk passed")
	}
}
