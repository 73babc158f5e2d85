"""Speech input: audio sources, voice-activity / push-to-talk segmentation, offline recognition and a
stop-word spotter that halts without waiting for a transcript. Interfaces in :mod:`speech.base`,
settings in :mod:`speech.config`, implementations chosen by :mod:`speech.factory`."""
