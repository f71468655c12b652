"""The command line: parse, build Options, call the library, report, exit.

Of the library only errors and options are imported here at the top; the rest is imported
inside the commands (each such import says "deferred: start-up"), so that numpy, Pillow,
OpenCV and onnxruntime load only for a command that runs and ``photoguard --help`` is quick.

Exit codes: 0 all done, 1 some files failed (the rest were cleaned), 2 usage error,
130 interrupted (SIGINT), 143 terminated (SIGTERM). stdout carries results only (``--json``); messages and progress go to stderr.
"""

from __future__ import annotations

import json
import math
import signal
import sys
from contextlib import ExitStack
from pathlib import Path

import click

from .errors import ExitCode, PhotoguardError, Terminated, UsageError
from .options import DETECTORS, MODES, OUTPUT_FORMATS, Options

EXIT_CODES_HELP = ("Exit codes: 0 all done, 1 some files failed (the others were done), 2 usage error, "
                   "130 interrupted, 143 terminated.")


class _Number(click.FloatRange):
    """A float in a range, and a number: click's FloatRange lets ``nan`` (and ``inf``) through,
    which would silently turn a limit off."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def _group(*decorators):
    """Several click options applied as one decorator."""
    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return apply


obscuring_options = _group(
    click.option("--mode", type=click.Choice(MODES), default="blur", show_default=True, help="How faces are obscured."),
    click.option("--mask-scale", type=_Number(1.0, 4.0), default=Options.mask_scale, show_default=True,
                 help="Size of the obscured ellipse relative to the face box (covers hair and ears)."),
)


#: options shared by every command that looks for faces
detection_options = _group(
        click.option("--detector", type=click.Choice(DETECTORS), default="centerface", show_default=True,
                     help="Face detection engine: centerface (finds ~9 in 10 upright faces, and looks for faces "
                          "at every angle: upside down, sideways, tilted) or OpenCV's Haar cascades (upright only)."),
        click.option("--threshold", type=_Number(0, 1), default=None,
                     help="Score a detection needs to count as a face (lower finds more). Default: the engine's measured one."),
        click.option("--thorough", is_flag=True,
                     help="Slower, finds more turned faces: the full detection also over the photo turned "
                          "90° and 270°, and the any-angle survey at a bigger size (smaller turned faces)."),
        click.option("--no-faces", "no_faces", is_flag=True, help="Do not look for faces: metadata only."),
        click.option("-j", "--jobs", type=click.IntRange(1), default=None,
                     help="Worker processes. Default: the number of CPUs."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON Lines on stdout, one object per file."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary."),
        click.option("--max-pixels", type=click.IntRange(1), default=Options.max_pixels, show_default=True,
                     help="Refuse images (and videos whose frames) declare more pixels than this."),
        click.option("--max-duration", type=_Number(0), default=Options.max_duration, show_default=True,
                     help="Refuse videos longer than this many seconds (0: no limit)."),
        click.option("--follow-links", is_flag=True, help="Walk into folders that are symbolic links."),
        click.option("--max-seconds", type=_Number(0), default=Options.max_seconds, show_default=True,
                     help="Give up on a file that takes longer than this (0: no limit)."),
)

#: options of the commands that write a review page or use its corrections
review_options = _group(
        click.option("--regions", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Corrections saved from a review page: faces to hide that were missed, "
                          "and hidden faces to keep visible. Matched to photos by content, so renamed files still match."),
        click.option("--show-paths", is_flag=True,
                     help="Show where each original is on the review page, and link the originals "
                          "(by default the page names photos only by their copies' names)."),
)


@click.group(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="photoguard")
def cli():
    """Make privacy-safe copies of photos: metadata removed, faces obscured."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_once)


def _stop_once(signum, frame):
    """The first Ctrl-C (or SIGTERM) stops the run; those that follow while it removes its
    temporary files and prints what was done are ignored, so the clean-up is never cut short."""
    for later in (signal.SIGINT, signal.SIGTERM):
        signal.signal(later, signal.SIG_IGN)
    raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the copies. Default: FOLDER-safe beside each input folder.")
@obscuring_options
@click.option("--format", "output_format", type=click.Choice(OUTPUT_FORMATS), default="keep", show_default=True,
              help="Format of the copies of photos. keep: the input's own, but HEIC/HEIF/AVIF become JPEG. "
                   "Videos always become MP4.")
@click.option("--overwrite", is_flag=True,
              help="Replace files already at the copies' paths even if photoguard did not write them. "
                   "(Its own earlier copies are redone anyway when the photo or the options changed.)")
@click.option("--rename", is_flag=True,
              help="Give the copies neutral names (photo-<hash of the content>) in one folder: no date or "
                   "name from the original file or folder names. --json maps each input to its copy.")
@click.option("--review", is_flag=True, help="Also write a review page (photoguard-review.html) into the output folder.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Clean on a Dask cluster: the address of its scheduler, e.g. tcp://HOST:8786. Its workers "
                   "read the photos and write the copies themselves, so every worker needs photoguard (the same "
                   "version) and must see the photos and the output folder at the same paths as this computer "
                   "(a shared file system). Needs: pip install \"photoguard[cluster]\".")
@click.option("--no-audio", "no_audio", is_flag=True,
              help="Drop the sound of videos: voices identify children too.")
@click.option("--keep-motion", is_flag=True,
              help="Keep the video of a Motion Photo (Google, Samsung) as a cleaned clip of its own, "
                   "NAME-motion.mp4 next to the still's copy. Without it the video is dropped.")
@review_options
@detection_options
def clean(paths, output, mode, mask_scale, output_format, overwrite, rename, review, scheduler, no_audio,
          keep_motion, regions, show_paths, **common):
    """Write a clean copy of every photo and video in PATHS: no metadata, faces obscured.

    Originals are never changed. Folders are walked recursively; files that are neither
    images nor videos are skipped. Videos (MP4, MOV, M4V, 3GP) become MP4 files: H.264, or
    10-bit HEVC for HDR video, with their sound kept (AAC).

    Faces in animations (GIF, WebP, APNG) are looked for on every third frame, on the frames
    between two whose faces differ, and on every picture that differs from the frames looked at
    (a new slide); in videos on 10 frames a second and on every frame where an eighth of the picture or more
    changed (a cut, a flash, someone stepping into view). Faces are followed to the frames in between.
    """
    with _reported_errors():
        options = _options(common, mode=mode, mask_scale=mask_scale, output_format=output_format,
                           overwrite=overwrite, regions=_regions(regions), audio=not no_audio,
                           keep_motion=keep_motion)
        if scheduler and common["jobs"]:
            raise UsageError("-j sets the worker processes of this computer; with --scheduler the cluster's "
                             "workers do the work")
    from . import batch  # deferred: start-up
    from .batch import plan  # deferred: start-up

    with _reported_errors():
        jobs = plan.plan_outputs(plan.find_inputs(list(paths), common["follow_links"]), output,
                                 options.output_format, rename)
    work, pages = batch.clean_job, None
    if review:
        from . import review as review_page  # deferred: start-up

        with _reported_errors():
            work, pages = review_page.clean_and_preview, review_page.Pages(options, show_paths, cleaned=True).open(jobs)
    with ExitStack() as resources:
        executor = _workers(common)
        if scheduler:
            from .batch.executors import cluster  # deferred: start-up

            with _reported_errors():
                executor = resources.enter_context(cluster.connect(scheduler))
        _clean_jobs(jobs, options, executor, work, pages, common)


def _clean_jobs(jobs, options, executor, work, pages, common) -> None:
    """Run the planned jobs, report each result and the summary, and exit with the right code."""
    from . import batch, report  # deferred: start-up

    tally, stopped = report.Tally(), None
    # library errors (another run holds the output folder...) end the run with one line; an
    # interrupt ends it with the summary of what was done
    with _reported_errors():
        try:
            with _progress(len(jobs), common["quiet"]) as advance:
                for job, result in zip(jobs, batch.clean_batch(jobs, options, executor, work)):
                    if pages:
                        pages.add(job, result)
                    tally.add(result)
                    if common["as_json"]:
                        click.echo(report.result_json(result))
                    for told in result.with_clip():
                        if report.needs_a_line(told):
                            click.echo(report.failure_line(told), err=True)
                    advance()
        except (KeyboardInterrupt, Terminated) as interrupt:
            stopped = interrupt
    if not common["quiet"] or stopped:
        folders = sorted({job.out_root for job in jobs if job.out_root})
        click.echo(("interrupted: " if stopped else "") + tally.summary(folders), err=True)
    if stopped:
        sys.exit(ExitCode.terminated if isinstance(stopped, Terminated) else ExitCode.interrupted)
    with _reported_errors():
        for page in pages.write() if pages else []:
            click.echo(f"review page: {report.printable(page)}", err=True)
    sys.exit(ExitCode.some_files_failed if tally.any_failed else ExitCode.ok)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the page; give the one you will clean into. Default: FOLDER-safe beside each input folder.")
@obscuring_options
@review_options
@detection_options
def review(paths, output, mode, mask_scale, regions, show_paths, **common):
    """Write a page to check, before cleaning, what photoguard will do to the photos in PATHS.

    Give the originals (as for clean). Faces are looked for as clean would, and the page shows
    each photo as its clean copy will look, the faces that will be hidden, and the metadata that
    will be removed; photos where no face was found or a face is uncertain come first. On the
    page, drag over a missed face, click a hidden face to keep it visible, and save the
    corrections; then run "photoguard clean PATHS --regions photoguard-regions.json".
    No copy is written: only the page (photoguard-review.html) and its small previews. Its
    path is printed. To review copies as they were written, use "clean --review" instead.
    """
    with _reported_errors():
        options = _options(common, mode=mode, mask_scale=mask_scale, regions=_regions(regions))
    from . import batch, report  # deferred: start-up
    from . import review as review_page  # deferred: start-up
    from .batch import plan  # deferred: start-up
    from .parts.results import Result  # deferred: start-up

    with _reported_errors():
        jobs = plan.plan_outputs(plan.find_inputs(list(paths), common["follow_links"]), output,
                                 options.output_format)
    with _reported_errors():
        pages, failed = review_page.Pages(options, show_paths, cleaned=False).open(jobs), 0
    with _progress(len(jobs), common["quiet"]) as advance, _reported_errors():
        for job, item in zip(jobs, batch.run_batch(review_page.preview_job, jobs, options, _workers(common))):
            pages.add(job, item)
            if isinstance(item, Result) and item.status == "failed":
                failed += 1
                click.echo(report.failure_line(item), err=True)
            advance()
        written = pages.write()
    for page in written:
        click.echo(json.dumps({"review_page": str(page)}) if common["as_json"] else str(page))
    if not written:
        click.echo("photoguard: no photos to review", err=True)
    sys.exit(ExitCode.some_files_failed if failed else ExitCode.ok)


def _regions(path: Path | None):
    if path is None:
        return None
    from .parts import regions  # deferred: start-up

    return regions.load(path)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@detection_options
def scan(paths, **common):
    """Show what each photo and video in PATHS gives away: GPS, dates, camera, names,
    thumbnails, hidden tracks, faces (for videos, when they show).

    Reads only; writes nothing.
    """
    with _reported_errors():
        options = _options(common)
    from . import batch, report  # deferred: start-up
    from .batch import plan  # deferred: start-up
    from .parts.results import Result  # deferred: start-up

    with _reported_errors():
        jobs = plan.find_inputs(list(paths), common["follow_links"])
    failed = 0
    with _progress(len(jobs), common["quiet"] or not common["as_json"]) as advance, _reported_errors():
        for item in batch.run_batch(batch.scan_job, jobs, options, _workers(common)):
            if isinstance(item, Result) and item.status == "skipped":
                advance()
                continue
            failed += isinstance(item, Result)
            click.echo(report.report_json(item) if common["as_json"] else report.report_line(item))
            if isinstance(item, Result):
                click.echo(report.failure_line(item), err=True)
            advance()
    sys.exit(ExitCode.some_files_failed if failed else ExitCode.ok)


def _options(common: dict, **specific) -> Options:
    """The options of a command, once its face detector is known to be able to run: a damaged
    model or a missing engine stops the run before any work (ModelError, exit 2)."""
    options = Options(detector=common["detector"], threshold=common["threshold"], thorough=common["thorough"],
                      faces=not common["no_faces"], max_pixels=common["max_pixels"],
                      max_duration=common["max_duration"], max_seconds=common["max_seconds"], **specific)
    if options.faces:
        from .parts.detect import check_engine  # deferred: start-up

        check_engine(options.detector)
    return options


def _workers(common: dict) -> int:
    from .batch.executors import default_workers  # deferred: start-up

    return common["jobs"] or default_workers()


class _reported_errors:
    """Turn library errors and interrupts into one line on stderr and the right exit code."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, PhotoguardError):
            from .report import printable  # deferred: start-up

            where = f"{printable(error.path)}: " if error.path and str(error.path) not in error.message else ""
            click.echo(f"photoguard: {where}{printable(error)}", err=True)
            sys.exit(error.exit_code)
        if isinstance(error, (KeyboardInterrupt, Terminated)):
            click.echo("photoguard: interrupted", err=True)
            sys.exit(ExitCode.terminated if isinstance(error, Terminated) else ExitCode.interrupted)
        return False


class _progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, quiet: bool):
        self.bar = None
        if not quiet and sys.stderr.isatty() and total > 1:
            self.bar = click.progressbar(length=total, file=sys.stderr, label="photoguard")

    def __enter__(self):
        if self.bar is None:
            return lambda: None
        self.bar.__enter__()
        return lambda: self.bar.update(1)

    def __exit__(self, *exc_info):
        if self.bar is not None:
            self.bar.__exit__(*exc_info)
        return False


def main() -> None:
    cli(prog_name="photoguard")
