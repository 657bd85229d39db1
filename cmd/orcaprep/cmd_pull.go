package main

import (
	"github.com/orcaprep/orcaprep/exitcode"
	"github.com/orcaprep/orcaprep/hub"
	"github.com/orcaprep/orcaprep/progress"
	"github.com/spf13/cobra"
)

func init() {
	var (
		o     hub.PullOptions
		token string
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "pull [REPO]",
		Short: "Download Hub files into the Hugging Face cache (resumable, verified)",
		Long: `pull downloads files of a Hugging Face Hub repo into huggingface_hub's cache
($HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub), so files already fetched with
huggingface-cli are reused and the other way round. REPO defaults to ` + hub.DefaultPullRepo + ` (a dataset).

Interrupted downloads resume where they stopped, also after the process was killed; transient
failures (resets, 5xx, 429) are retried with backoff; every file is checked against its size and
its sha256 (LFS) or git hash before it appears under snapshots/. One local path per file is printed
on stdout; progress goes to stderr.

Environment: HF_TOKEN (or --token) for gated/private repos, sent only to the Hub host and never
printed; HF_ENDPOINT for a mirror; HF_HUB_OFFLINE=1 to answer from the cache alone.

` + exitcode.Help,
		Example: `  orcaprep pull --include '1M-GPT4-Augmented.parquet'
  orcaprep pull conceptofmind/LLongMA-2-7b-16k --repo-type model --include 'tokenizer*'
  orcaprep pull Open-Orca/OpenOrca --include '*.parquet' --exclude '3_5M*' --local-dir data/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env := hub.OptionsFromEnv()
			if cmd.Flags().Changed("token") {
				env.Token = token
			}
			env.Stderr = cmd.ErrOrStderr()
			if quiet {
				env.Progress = progress.Never
			}
			o.Options = env
			if len(args) == 1 {
				o.Repo = args[0]
			}
			if o.Concurrency < 1 || o.Concurrency > 64 {
				return exitcode.Errorf(exitcode.Usage, "--concurrency must be between 1 and 64, got %d", o.Concurrency)
			}
			return hub.RunPull(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.RepoType, "repo-type", hub.TypeDataset, "repo type: dataset, model or space")
	f.StringVar(&o.Revision, "revision", hub.DefaultRevision, "branch, tag or commit to download")
	f.StringArrayVar(&o.Include, "include", nil, "only files matching this glob (repeatable; '*' also matches '/')")
	f.StringArrayVar(&o.Exclude, "exclude", nil, "skip files matching this glob (repeatable)")
	f.StringVar(&o.LocalDir, "local-dir", "", "write plain files into DIR instead of the cache")
	f.IntVar(&o.Concurrency, "concurrency", hub.DefaultConcurrency, "files downloaded in parallel")
	f.StringVar(&token, "token", "", "Hub access token (default $HF_TOKEN); never printed")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress or retry notices on stderr")
	addCommand(cmd)
}
