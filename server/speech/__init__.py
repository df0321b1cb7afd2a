"""Speech helpers shared by the speech plugins, the call pipeline and the benches.

`resample` is the one place audio changes rate (streaming too), `vad` finds where an utterance
starts and ends, `audio_io` reads and writes audio files, `wer` scores transcripts, `threaded`
streams a blocking generator from a worker thread, `testing` makes real speech for tests.
"""
