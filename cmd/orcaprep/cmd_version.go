package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func init() {
	addCommand(&cobra.Command{
		Use:     "version",
		Short:   "Print the orcaprep version",
		Example: "  orcaprep version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "orcaprep %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	})
}
