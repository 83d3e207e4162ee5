//! Music-on-hold conversion: an uploaded audio file in, the two WAV files that FreeSWITCH's
//! `mod_local_stream` plays out.
//!
//! `mod_local_stream` picks the file whose rate matches the call, so each recording is stored as
//! mono 16-bit PCM at 8000 Hz (narrowband calls) and at 16000 Hz (wideband calls). Serving the
//! right rate avoids FreeSWITCH resampling on every call, and mono halves the work of mixing.
//!
//! The conversion is pure (bytes in, bytes out) so that routes can call it on an upload without
//! touching the disk, and tests can feed it anything. Everything that comes from a user is
//! untrusted: the container is probed by content (the content type is only a hint), decoding is
//! streamed packet by packet into the resamplers, and the work stops as soon as the recording
//! turns out to be longer than [`MAX_DURATION_MS`], so neither time nor memory grows with a
//! hostile file beyond what a 30-minute recording needs.

use std::io::Cursor;

use hound::{SampleFormat, WavSpec, WavWriter};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};
use symphonia::core::audio::GenericAudioBufferRef;
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

/// The longest recording we accept, in milliseconds: 30 minutes.
pub const MAX_DURATION_MS: u64 = 30 * 60 * 1000;

/// Slack on top of [`MAX_DURATION_MS`], so that a recording cut at exactly 30 minutes is not
/// refused because of encoder padding or a container's rounded length.
const DURATION_GRACE_MS: u64 = 1000;

/// Source rates outside this range are not real recordings; refusing them also keeps the FFT
/// sizes of the resampler (which grow with the rate) small.
const SOURCE_RATES: std::ops::RangeInclusive<u32> = 1000..=384_000;

/// Input frames per resampler call: small enough to keep the buffers tiny, large enough for the
/// FFT resampler to be efficient. The resampler rounds it up to a multiple of its block size.
const CHUNK_FRAMES: usize = 1024;

/// The rates `mod_local_stream` looks for in a music-on-hold folder.
const NARROWBAND_HZ: u32 = 8000;
const WIDEBAND_HZ: u32 = 16000;

/// A recording ready for `mod_local_stream`: the same audio as two complete WAV files.
#[derive(Clone, PartialEq, Eq)]
pub struct MohAudio {
    /// Mono 16-bit PCM WAV at 8000 Hz.
    pub wav_8k: Vec<u8>,
    /// Mono 16-bit PCM WAV at 16000 Hz.
    pub wav_16k: Vec<u8>,
    /// Length of the recording, for showing to the user.
    pub duration_ms: u64,
}

/// Sizes only: the WAV bytes would drown any log or test failure.
impl std::fmt::Debug for MohAudio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MohAudio")
            .field("wav_8k_bytes", &self.wav_8k.len())
            .field("wav_16k_bytes", &self.wav_16k.len())
            .field("duration_ms", &self.duration_ms)
            .finish()
    }
}

/// Why an upload cannot be used as music on hold. The messages are shown to the person who
/// uploaded the file, so they say what to do rather than what failed inside.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// Not a container or codec we decode: text, an image, random bytes, an empty or cut-off file.
    #[error("This file is not audio we can read. Upload an MP3, WAV or OGG file.")]
    NotAudio,
    /// A known container holding audio in an encoding we do not decode (or an absurd rate).
    #[error(
        "This audio file uses an encoding we cannot read. Save it as MP3, OGG or a standard WAV \
         file and upload it again."
    )]
    UnsupportedEncoding,
    /// Longer than [`MAX_DURATION_MS`].
    #[error("The recording is too long: at most 30 minutes.")]
    TooLong,
    /// Decodes fine but holds no audio, or only digital silence.
    #[error("The file contains no sound.")]
    NoSound,
    /// The resampler or the WAV writer failed; not the user's fault. `detail` is for logs only.
    #[error("The recording could not be converted. Please try again, or upload another file.")]
    ConversionFailed {
        /// What failed, for the server log.
        detail: String,
    },
}

impl AudioError {
    /// True when the upload is not a format we take (HTTP 415); false when it is audio we read
    /// but cannot use as it is (HTTP 422).
    pub fn is_unsupported_format(&self) -> bool {
        matches!(self, Self::NotAudio | Self::UnsupportedEncoding)
    }

    fn conversion(err: impl std::fmt::Display) -> Self {
        Self::ConversionFailed {
            detail: err.to_string(),
        }
    }
}

/// Converts an uploaded recording to the 8 kHz and 16 kHz mono WAV files for music on hold.
///
/// `content_type_hint` is the upload's content type (or a file name); it only speeds up probing,
/// the bytes decide. All channels are averaged to mono and resampled with an anti-aliasing
/// low-pass; levels are left as they are, apart from clipping to the 16-bit range.
pub fn convert_for_moh(
    bytes: &[u8],
    content_type_hint: Option<&str>,
) -> Result<MohAudio, AudioError> {
    convert_with_limit(bytes, content_type_hint, MAX_DURATION_MS)
}

/// [`convert_for_moh`] with the duration limit as a parameter, so tests can exercise it on
/// seconds of audio instead of half an hour.
fn convert_with_limit(
    bytes: &[u8],
    content_type_hint: Option<&str>,
    max_ms: u64,
) -> Result<MohAudio, AudioError> {
    let mut source = Source::open(bytes, content_type_hint, max_ms)?;
    let mut out_8k = Cursor::new(Vec::new());
    let mut out_16k = Cursor::new(Vec::new());
    let mut sink = Sink::new(&mut out_8k, &mut out_16k, max_ms);
    source.decode_into(&mut sink)?;
    let duration_ms = sink.finish()?;
    Ok(MohAudio {
        wav_8k: out_8k.into_inner(),
        wav_16k: out_16k.into_inner(),
        duration_ms,
    })
}

/// A probed container with the decoder for its first audio track.
struct Source<'a> {
    format: Box<dyn FormatReader + 'a>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
}

impl<'a> Source<'a> {
    /// Probes the bytes and sets up a decoder; refuses early when the container already says
    /// the recording is too long, before any decoding work.
    fn open(
        bytes: &'a [u8],
        content_type_hint: Option<&str>,
        max_ms: u64,
    ) -> Result<Self, AudioError> {
        let stream = MediaSourceStream::new(
            Box::new(Cursor::new(bytes)),
            MediaSourceStreamOptions::default(),
        );
        let format = symphonia::default::get_probe()
            .probe(
                &hint_for(content_type_hint),
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|_| AudioError::NotAudio)?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or(AudioError::NotAudio)?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|params| params.audio())
            .ok_or(AudioError::NotAudio)?;
        if let (Some(frames), Some(rate)) = (track.num_frames, params.sample_rate) {
            check_duration(frames, rate, max_ms)?;
        }
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|_| AudioError::UnsupportedEncoding)?;
        let track_id = track.id;
        Ok(Self {
            format,
            decoder,
            track_id,
        })
    }

    /// Feeds every decodable packet of the track to `sink`, one at a time.
    ///
    /// A damaged packet is skipped rather than failing the whole upload, as players do; a
    /// container error ends the stream (a cut-off download keeps the audio before the cut).
    /// Whether anything usable came out is decided by [`Sink::finish`].
    fn decode_into(&mut self, sink: &mut Sink<'_>) -> Result<(), AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                // End of stream, a chained OGG stream (we keep the first), or a cut/corrupt tail.
                Ok(None) | Err(_) => return Ok(()),
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buffer) => sink.push(&buffer)?,
                Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => continue,
                Err(_) => return Ok(()),
            }
        }
    }
}

/// Turns the upload's content type (or file name) into a probe hint.
fn hint_for(content_type_hint: Option<&str>) -> Hint {
    let mut hint = Hint::new();
    let Some(raw) = content_type_hint else {
        return hint;
    };
    let value = raw
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if value.contains('/') {
        hint.mime_type(&value);
    }
    let extension = match value.as_str() {
        "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => Some("mp3"),
        "audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave" => Some("wav"),
        "audio/ogg" | "application/ogg" | "audio/vorbis" => Some("ogg"),
        "audio/flac" | "audio/x-flac" => Some("flac"),
        other => other.rsplit_once('.').map(|(_, ext)| ext),
    };
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    hint
}

/// Refuses a recording of `frames` frames at `rate` Hz that is longer than `max_ms`.
fn check_duration(frames: u64, rate: u32, max_ms: u64) -> Result<(), AudioError> {
    if frames_to_ms(frames, rate) > max_ms.saturating_add(DURATION_GRACE_MS) {
        return Err(AudioError::TooLong);
    }
    Ok(())
}

fn frames_to_ms(frames: u64, rate: u32) -> u64 {
    let ms = u128::from(frames) * 1000 / u128::from(rate.max(1));
    u64::try_from(ms).unwrap_or(u64::MAX)
}

/// An in-memory WAV file being written.
type WavBuffer = Cursor<Vec<u8>>;

/// Receives decoded audio, downmixes it and drives both rate converters. It is created before
/// the source rate is known (some containers only tell it with the first decoded packet).
struct Sink<'w> {
    outputs: Option<(&'w mut WavBuffer, &'w mut WavBuffer)>,
    converters: Option<[RateConverter<'w>; 2]>,
    source_rate: u32,
    max_ms: u64,
    frames: u64,
    peak: f32,
    interleaved: Vec<f32>,
    mono: Vec<f32>,
}

impl<'w> Sink<'w> {
    fn new(out_8k: &'w mut WavBuffer, out_16k: &'w mut WavBuffer, max_ms: u64) -> Self {
        Self {
            outputs: Some((out_8k, out_16k)),
            converters: None,
            source_rate: 0,
            max_ms,
            frames: 0,
            peak: 0.0,
            interleaved: Vec::new(),
            mono: Vec::new(),
        }
    }

    /// Downmixes one decoded buffer and resamples it; refuses as soon as the running length
    /// passes the limit, so an over-long file costs no more than 30 minutes of decoding.
    fn push(&mut self, buffer: &GenericAudioBufferRef<'_>) -> Result<(), AudioError> {
        let frames = buffer.frames();
        let channels = buffer.num_planes();
        if frames == 0 || channels == 0 {
            return Ok(());
        }
        self.start(buffer.spec().rate())?;
        buffer.copy_to_vec_interleaved(&mut self.interleaved);
        downmix(&self.interleaved, channels, &mut self.mono);
        self.peak = self
            .mono
            .iter()
            .fold(self.peak, |peak, s| peak.max(s.abs()));
        self.frames += self.mono.len() as u64;
        check_duration(self.frames, self.source_rate, self.max_ms)?;
        for converter in self.converters.iter_mut().flatten() {
            converter.push(&self.mono)?;
        }
        Ok(())
    }

    /// Builds the converters on the first buffer; later buffers must keep the same rate, since
    /// a rate change mid-file (possible in chained streams) cannot be stitched without a click.
    fn start(&mut self, rate: u32) -> Result<(), AudioError> {
        if let Some((out_8k, out_16k)) = self.outputs.take() {
            if !SOURCE_RATES.contains(&rate) {
                return Err(AudioError::UnsupportedEncoding);
            }
            self.source_rate = rate;
            self.converters = Some([
                RateConverter::new(rate, NARROWBAND_HZ, out_8k)?,
                RateConverter::new(rate, WIDEBAND_HZ, out_16k)?,
            ]);
        }
        if rate != self.source_rate {
            return Err(AudioError::UnsupportedEncoding);
        }
        Ok(())
    }

    /// Flushes the converters and closes both WAV files; returns the duration in ms.
    fn finish(self) -> Result<u64, AudioError> {
        let Some(converters) = self.converters else {
            return Err(AudioError::NotAudio);
        };
        if self.peak * 32767.0 < 0.5 {
            return Err(AudioError::NoSound);
        }
        for converter in converters {
            converter.finish(self.frames)?;
        }
        Ok(frames_to_ms(self.frames, self.source_rate))
    }
}

/// Averages the channels of interleaved `samples` into `mono` (replacing its contents). Not a
/// sum: averaging cannot clip. NaN and infinities (possible in float WAV) become silence so they
/// cannot poison the resampler's FFT.
fn downmix(samples: &[f32], channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    let scale = 1.0 / channels as f32;
    mono.extend(samples.chunks_exact(channels).map(|frame| {
        let sum: f32 = frame.iter().filter(|s| s.is_finite()).sum();
        sum * scale
    }));
}

/// Resamples a mono stream to one output rate and writes it as 16-bit WAV as it goes.
struct RateConverter<'w> {
    resampler: Fft<f32>,
    source_rate: u32,
    target_rate: u32,
    /// Input not yet consumed: less than one chunk between calls.
    pending: Vec<f32>,
    /// One chunk of resampled output.
    scratch: Vec<f32>,
    /// Leading output frames that are the resampler's delay, not audio.
    delay_left: usize,
    written: u64,
    writer: WavWriter<&'w mut WavBuffer>,
}

impl<'w> RateConverter<'w> {
    /// The FFT resampler applies a windowed low-pass at the lower of the two Nyquist rates, so
    /// downsampling music to 8 kHz does not fold its treble back into the voice band.
    fn new(source_rate: u32, target_rate: u32, out: &'w mut WavBuffer) -> Result<Self, AudioError> {
        let resampler = Fft::<f32>::new(
            source_rate as usize,
            target_rate as usize,
            CHUNK_FRAMES,
            1,
            FixedSync::Input,
        )
        .map_err(AudioError::conversion)?;
        let spec = WavSpec {
            channels: 1,
            sample_rate: target_rate,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let writer = WavWriter::new(out, spec).map_err(AudioError::conversion)?;
        Ok(Self {
            delay_left: resampler.output_delay(),
            scratch: vec![0.0; resampler.output_frames_max()],
            resampler,
            source_rate,
            target_rate,
            pending: Vec::new(),
            written: 0,
            writer,
        })
    }

    /// Queues input and resamples every complete chunk.
    fn push(&mut self, samples: &[f32]) -> Result<(), AudioError> {
        self.pending.extend_from_slice(samples);
        while self.pending.len() >= self.resampler.input_frames_next() {
            self.run_chunk(None, u64::MAX)?;
        }
        Ok(())
    }

    /// Resamples the last partial chunk, then feeds silence until the resampler's delay has come
    /// out, and cuts the output at the exact length of the source.
    fn finish(mut self, source_frames: u64) -> Result<(), AudioError> {
        let expected =
            u128::from(source_frames) * u128::from(self.target_rate) / u128::from(self.source_rate);
        let expected = u64::try_from(expected).unwrap_or(u64::MAX);
        // Each call yields at least one output chunk, so this bounds the loop generously.
        let mut rounds = 0;
        while self.written < expected {
            if rounds > 1000 {
                return Err(AudioError::conversion("resampler produced no output"));
            }
            let partial = self.pending.len().min(self.resampler.input_frames_next());
            self.run_chunk(Some(partial), expected)?;
            rounds += 1;
        }
        self.writer.finalize().map_err(AudioError::conversion)
    }

    /// Runs the resampler once on the head of `pending` (`partial` frames of it, the rest
    /// silence, when given) and writes at most `limit` frames in total.
    fn run_chunk(&mut self, partial: Option<usize>, limit: u64) -> Result<(), AudioError> {
        let input_len = partial.unwrap_or_else(|| self.resampler.input_frames_next());
        let input = InterleavedSlice::new(&self.pending[..input_len], 1, input_len)
            .map_err(AudioError::conversion)?;
        let frames_out = self.scratch.len();
        let mut output = InterleavedSlice::new_mut(&mut self.scratch[..], 1, frames_out)
            .map_err(AudioError::conversion)?;
        let indexing = partial.map(|frames| Indexing::new().partial_len(frames));
        let (consumed, produced) = self
            .resampler
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .map_err(AudioError::conversion)?;
        self.pending.drain(..consumed.min(input_len));
        self.write(produced, limit)
    }

    /// Writes the first `produced` frames of `scratch`, minus the remaining delay, up to `limit`.
    fn write(&mut self, produced: usize, limit: u64) -> Result<(), AudioError> {
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        let room = usize::try_from(limit.saturating_sub(self.written)).unwrap_or(usize::MAX);
        let end = produced.min(skip.saturating_add(room));
        for &sample in &self.scratch[skip..end] {
            self.writer
                .write_sample(to_i16(sample))
                .map_err(AudioError::conversion)?;
        }
        self.written += (end - skip) as u64;
        Ok(())
    }
}

/// Converts a float sample to 16 bits, clipping what lies outside [-1, 1] (loud float sources,
/// or resampler overshoot on a full-scale square) instead of letting it wrap around.
fn to_i16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests;
