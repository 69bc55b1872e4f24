"""The annotators' proxy keeps the source's sound, on the frames' clock, and Chromium plays it.

The clip 6c6MZQ.joke3.rep2 (a training dyad) has its first audio sample 37 ms after its first
frame: a proxy that started its sound with its first frame would be 37 ms early, which the
cross-correlation below sees (1 ms = 16 samples at 16 kHz).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from cuevision.annotate.sync import PROXY, PROXY_INFO, proxy_clock
from cuevision.audio.decode import SAMPLE_RATE, decode_audio
from cuevision.types import VideoInfo
from cuevision.video import VideoWriter, make_cfr_proxy, probe
from cuevision.video.probe import VideoError
from tests.browser import ARGS as BROWSER_ARGS
from tests.browser import CHROMIUM

CLIP = "6c6MZQ.joke3.rep2.take1.Peekaboo.mp4"  # 5.8 s, audio from 37 ms, speech at 1-2 s
ARGS = [*BROWSER_ARGS, "--autoplay-policy=no-user-gesture-required"]  # and sound plays at once


@pytest.fixture(scope="module")
def proxies(
    lookit: Callable[[str], Path], media: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """``sound``: the real clip's proxy; ``silent``: the proxy of a video without audio."""
    folder = tmp_path_factory.mktemp("proxies")
    make_cfr_proxy(lookit(CLIP), folder / "sound.mp4", max_height=240)
    make_cfr_proxy(media["good"], folder / "silent.mp4")
    return {"sound": folder / "sound.mp4", "silent": folder / "silent.mp4"}


def test_the_proxy_keeps_the_sound_on_the_frames_clock(
    lookit: Callable[[str], Path], proxies: dict[str, Path]
) -> None:
    info = probe(proxies["sound"])
    assert info.has_audio
    video_s = info.n_frames / info.nominal_fps
    with av.open(str(proxies["sound"])) as container:
        (stream,) = container.streams.audio
        assert stream.codec_context.name == "aac" and stream.start_time == 0
        declared_s = float((stream.duration or 0) * (stream.time_base or 0))
    assert declared_s == pytest.approx(video_s, abs=0.001)  # as long as the frames, to 1 ms

    source, proxy = decode_audio(lookit(CLIP)), decode_audio(proxies["sound"])
    assert source is not None and proxy is not None
    assert source.t0_s == pytest.approx(0.037, abs=0.002)  # the late start this test is about
    assert proxy.t0_s == pytest.approx(0.0, abs=1e-6)  # silence until then
    # decoded, the last AAC frame may carry up to one frame (1024 samples at 48 kHz) of padding
    assert 0 <= proxy.end_s - video_s <= 1024 / 48_000
    assert np.abs(proxy.samples[: int(0.03 * SAMPLE_RATE)]).max() < 0.01  # the silent lead-in

    # the same sound at the same time on both clocks: the best lag is 0 (within 1 ms)
    start = int(round((source.t0_s - proxy.t0_s) * SAMPLE_RATE))  # source sample 0 in proxy
    margin = SAMPLE_RATE // 10  # 100 ms on each side, more than the largest lag tried
    x = source.samples[margin:-margin]
    lags = range(-SAMPLE_RATE // 20, SAMPLE_RATE // 20 + 1)  # +-50 ms
    at = start + margin
    corr = [np.corrcoef(x, proxy.samples[at + k : at + k + len(x)])[0, 1] for k in lags]
    best = int(np.argmax(corr))
    assert abs(lags[best]) <= SAMPLE_RATE // 1000, f"sound shifted by {lags[best]} samples"
    assert corr[best] > 0.98


def test_a_video_without_audio_gives_a_proxy_without_audio(proxies: dict[str, Path]) -> None:
    assert not probe(proxies["silent"]).has_audio
    assert decode_audio(proxies["silent"]) is None


def test_a_proxy_made_without_sound_is_made_again(
    lookit: Callable[[str], Path], tmp_path: Path
) -> None:
    """An OUTDIR pushed before proxies kept the sound gets a new proxy with the same frames."""
    source = probe(lookit(CLIP))
    (tmp_path / PROXY).write_bytes(b"an old proxy")
    old = dataclasses.replace(source, has_audio=False, nominal_fps=30.0, n_frames=174)
    (tmp_path / PROXY_INFO).write_text(json.dumps(old.to_dict()))
    clock = proxy_clock(tmp_path, source)
    remade = probe(tmp_path / PROXY)
    assert remade.has_audio and VideoInfo.load(tmp_path / PROXY_INFO) == remade
    assert (remade.nominal_fps, remade.n_frames) == (clock.fps, clock.n_frames) == (30.0, 174)
    made_at = (tmp_path / PROXY).stat().st_mtime_ns
    assert proxy_clock(tmp_path, source) == clock
    assert (tmp_path / PROXY).stat().st_mtime_ns == made_at  # made again once, not every time


def test_the_writer_refuses_sound_it_cannot_write(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "v.mp4", 10, 64, 48) as writer:
        with pytest.raises(VideoError, match="pass audio_rate"):
            writer.write_audio(np.zeros((1, 100), np.float32))
    with pytest.raises(VideoError, match="Hz"):
        VideoWriter(tmp_path / "w.mp4", 10, 64, 48, audio_rate=12345)
    with VideoWriter(tmp_path / "x.mp4", 10, 64, 48, audio_rate=48_000) as writer:
        with pytest.raises(VideoError, match=r"\(1, n\)"):
            writer.write_audio(np.zeros((2, 100), np.float32))


# Plays the proxy unmuted for 3 s through a WebAudio analyser and returns the loudest RMS seen.
LISTEN = """async () => {
  const video = document.querySelector('video');
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 2048;
  context.createMediaElementSource(video).connect(analyser);
  analyser.connect(context.destination);
  await context.resume();
  video.muted = false;
  video.volume = 1;
  await video.play();
  const buffer = new Float32Array(analyser.fftSize);
  let peak = 0;
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    await new Promise((done) => setTimeout(done, 40));
    analyser.getFloatTimeDomainData(buffer);
    peak = Math.max(peak, Math.sqrt(buffer.reduce((s, x) => s + x * x, 0) / buffer.length));
  }
  return {peak, played_s: video.currentTime, error: video.error && video.error.code,
          context: context.state};
}"""


@pytest.fixture(scope="module")
def site(proxies: dict[str, Path]) -> Iterator[str]:
    """The proxies and a page per proxy, served on a free loopback port."""
    folder = proxies["sound"].parent
    for name in proxies:
        (folder / f"{name}.html").write_text(f'<video src="{name}.mp4" loop></video>')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_chromium_plays_the_proxy_with_sound(site: str) -> None:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.is_file(), "Debian's chromium is missing: run `make browser`"
    heard = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for name in ("sound", "silent"):
                page = browser.new_page()
                page.goto(f"{site}/{name}.html")
                heard[name] = page.evaluate(LISTEN)
                page.close()
        finally:
            browser.close()
    for name, result in heard.items():
        assert result["error"] is None and result["played_s"] > 1.0, (name, result)
    assert heard["sound"]["peak"] > 0.01, heard  # speech (RMS ~0.04 in 0.5 s windows)
    assert heard["silent"]["peak"] == 0, heard  # no track: nothing reaches the analyser
