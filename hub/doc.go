// Package hub downloads files from the Hugging Face Hub into huggingface_hub's own cache layout, resuming
// interrupted transfers, retrying transient failures and verifying every byte before a file becomes visible.
//
// The protocol and cache layout follow the Python huggingface_hub client (file_download.py, hf_api.py,
// constants.py) so that files fetched by either tool are reused by the other:
//
//	$HF_HUB_CACHE/datasets--Open-Orca--OpenOrca/
//	  refs/main                  commit sha the revision resolved to
//	  blobs/<etag>               content, named by its etag (sha256 for LFS files)
//	  blobs/<etag>.incomplete    a download in progress, resumed with Range
//	  snapshots/<commit>/<path>  relative symlink to ../../blobs/<etag>
//	$HF_HUB_CACHE/.locks/datasets--Open-Orca--OpenOrca/<etag>.lock   flock shared with huggingface_hub
package hub
