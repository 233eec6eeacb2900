"""Every session-state key the app uses, in one place (a typo in a string literal would be a silent bug).

Keys of widgets that other pages read are plain names; keys the app sets for itself start with '_'.
"""

DATASET = "dataset"  # sidebar widget: the chosen dataset
RUN = "run_id"  # sidebar widget: the chosen run
NEXT_RUN = "_next_run"  # a page asks the sidebar to select this run on the next rerun
NEXT_DATASET = "_next_dataset"  # likewise for a dataset (the Data page, after an import)
LAST_IMPORT = "_last_import"  # what the last import did, shown once after the rerun that selects it
MIN_SIZE = "_min_segment_size"  # the minimum segment size, one for every page
ALLOW_SMALL = "_allow_small_segments"  # whether it may go below the default
FEATURES = "features"  # dataset -> the chosen features
PREPROCESSING = "preprocessing"  # the chosen Preprocessing
RUN_MEMO = "_run_memo"  # answers asked once per script run (see data._once_per_run)
SWEEPS = "_sweeps"  # sweeps of this session (see data.sweep)
FITTED = "_fitted_message"  # the run whose "fitted" message the Segment page shows once
PERSONAS_SAVED = "_personas_saved"  # the run whose personas were just saved
UMAP_SECONDS = "_umap_seconds"  # how long the last UMAP took, shown once
MAP_METHOD = "_map_method"  # the Explore page's map (pca or umap), kept across visits
SELECTION_AGAINST = "selection_against"  # what a selection on the map is compared with (everyone or segment)
UPLOAD_FOLDER = "_upload_folder"  # this session's dashboard.uploads.UploadFolder
UPLOAD_GENERATION = "_upload_generation"  # bumped after an import, to clear the uploaders


def upload_key(slot: str) -> str:
    """The key holding the cache key of the upload saved for ``slot`` (events or users)."""
    return f"_{slot}_key"


def upload_path(slot: str) -> str:
    """The key holding the path the upload of ``slot`` was saved to."""
    return f"_{slot}_path"
