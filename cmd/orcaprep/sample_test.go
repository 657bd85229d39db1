package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSampleJobWritesAxolotlTrainingFormat runs the README's first command (`orcaprep run --config
// configs/sample.yaml --overwrite`, from the repository root, into a temp OUT) as on a fresh machine: the Hub
// offline with an empty cache and an endpoint that refuses connections, and no tokenizer. It must print the
// report, pass `orcaprep validate`, and write an axolotl.yaml Axolotl can train from: a datasets: entry per
// shard with type chat_template on chat_template: chatml (text, the ChatML rendering, has no datasets:).
func TestSampleJobWritesAxolotlTrainingFormat(t *testing.T) {
	repo, _ := filepath.Abs("../..")
	hf := t.TempDir()
	t.Setenv("HF_HOME", hf)
	t.Setenv("HF_HUB_CACHE", filepath.Join(hf, "hub"))
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1")
	t.Chdir(repo) // the sample config names its input relative to the repository
	out := filepath.Join(t.TempDir(), "sample")
	var stdout, stderr bytes.Buffer
	if code := executeWith([]string{"run", "--config", "configs/sample.yaml", "--overwrite", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"orcaprep dataset report", "rows read              2,000", "dropped because", "wrote " + out} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("the report lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := executeWith([]string{"validate", out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), " ok: messages,") {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var m struct {
		Format       string
		TokenizerDir any `json:"tokenizer_dir"`
	}
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "tokenizer")); !os.IsNotExist(err) || m.TokenizerDir != nil {
		t.Fatalf("the sample job used a tokenizer: OUT/tokenizer %v, manifest tokenizer_dir %v", err, m.TokenizerDir)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "data", "train-*.jsonl"))
	if len(shards) < 2 { // 1,912 kept rows, max_rows 1000
		t.Fatalf("shards %v", shards)
	}
	y, err := os.ReadFile(filepath.Join(out, "axolotl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ChatTemplate string   `yaml:"chat_template"`
		EOT          []string `yaml:"eot_tokens"`
		Datasets     []struct {
			Path          string   `yaml:"path"`
			DSType        string   `yaml:"ds_type"`
			Type          string   `yaml:"type"`
			FieldMessages string   `yaml:"field_messages"`
			RolesToTrain  []string `yaml:"roles_to_train"`
		} `yaml:"datasets"`
	}
	if err := yaml.Unmarshal(y, &doc); err != nil {
		t.Fatalf("axolotl.yaml: %v\n%s", err, y)
	}
	if m.Format != "messages" || doc.ChatTemplate != "chatml" || len(doc.EOT) != 1 || doc.EOT[0] != "<|im_end|>" || len(doc.Datasets) != len(shards) {
		t.Fatalf("format %q, axolotl.yaml %+v\n%s", m.Format, doc, y)
	}
	for i, d := range doc.Datasets {
		if d.Path != shards[i] || d.DSType != "json" || d.Type != "chat_template" || d.FieldMessages != "messages" ||
			len(d.RolesToTrain) != 1 || d.RolesToTrain[0] != "assistant" {
			t.Fatalf("dataset %d: %+v, shard %s", i, d, shards[i])
		}
	}
}
