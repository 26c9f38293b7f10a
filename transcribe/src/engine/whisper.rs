//! Local inference with whisper.cpp (through whisper-rs) on any ggml Whisper model file.

use std::path::Path;
use std::sync::Mutex;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::{Engine, Readiness, Segment, WhisperConfig};
use crate::error::{Error, Result};

/// Whisper timestamps are in centiseconds.
const TICKS_PER_SEC: f64 = 100.0;
/// whisper.cpp returns nothing for input under 1 s; shorter pieces are padded with silence.
const MIN_INPUT_SAMPLES: usize = 17_600;

/// Holds the model once; each concurrent transcription borrows a decoding state from a small
/// pool (one per worker that ever ran at the same time), since creating one allocates buffers.
pub struct WhisperEngine {
    context: WhisperContext,
    states: Mutex<Vec<WhisperState>>,
    config: WhisperConfig,
    multilingual: bool,
}

impl WhisperEngine {
    /// Load the model file. Reads the whole file (75 MB for tiny): run on a blocking thread.
    pub fn new(config: &WhisperConfig) -> Result<Self> {
        check_model_file(&config.model_path)?;
        whisper_rs::install_logging_hooks();
        let path = config
            .model_path
            .to_str()
            .ok_or_else(|| Error::Model("model path is not UTF-8".into()))?;
        let context = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| Error::Model(format!("{}: {e}", config.model_path.display())))?;
        let multilingual = context.is_multilingual();
        Ok(WhisperEngine {
            context,
            states: Mutex::new(Vec::new()),
            config: config.clone(),
            multilingual,
        })
    }

    fn take_state(&self) -> Result<WhisperState> {
        let pooled = self.states.lock().map(|mut pool| pool.pop()).ok().flatten();
        match pooled {
            Some(state) => Ok(state),
            None => self
                .context
                .create_state()
                .map_err(|e| Error::Engine(format!("cannot create decoder state: {e}"))),
        }
    }

    fn return_state(&self, state: WhisperState) {
        if let Ok(mut pool) = self.states.lock() {
            pool.push(state);
        }
    }

    fn params(&self) -> FullParams<'_, '_> {
        let strategy = if self.config.beam_size > 1 {
            SamplingStrategy::BeamSearch {
                beam_size: self.config.beam_size as i32,
                patience: -1.0,
            }
        } else {
            SamplingStrategy::Greedy { best_of: 5 }
        };
        let mut params = FullParams::new(strategy);
        params.set_n_threads(self.config.threads.max(1) as i32);
        let language = match (&self.config.language, self.multilingual) {
            (_, false) => "en",
            (Some(code), true) => code.as_str(),
            (None, true) => "auto",
        };
        params.set_language(Some(language));
        params.set_no_context(true);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_special(false);
        params.set_print_timestamps(false);
        params
    }
}

/// Fail with a clear message instead of whisper.cpp's generic one when the file is absent.
fn check_model_file(path: &Path) -> Result<()> {
    let meta =
        std::fs::metadata(path).map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(Error::Model(format!("{} is not a file", path.display())));
    }
    Ok(())
}

impl Engine for WhisperEngine {
    fn transcribe(&self, samples: &[f32]) -> Result<Vec<Segment>> {
        let padded;
        let samples = if samples.len() < MIN_INPUT_SAMPLES {
            padded = [samples, &vec![0.0; MIN_INPUT_SAMPLES - samples.len()]].concat();
            &padded
        } else {
            samples
        };
        let mut state = self.take_state()?;
        let outcome = state
            .full(self.params(), samples)
            .map_err(|e| Error::Engine(e.to_string()))
            .and_then(|()| collect_segments(&state));
        self.return_state(state);
        outcome
    }

    fn readiness(&self) -> Readiness {
        Readiness::Ready
    }

    fn describe(&self) -> String {
        let name = self
            .config
            .model_path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!("whisper:{name}")
    }
}

fn collect_segments(state: &WhisperState) -> Result<Vec<Segment>> {
    let mut segments = Vec::new();
    for segment in state.as_iter() {
        let text = segment
            .to_str_lossy()
            .map_err(|e| Error::Engine(e.to_string()))?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        segments.push(Segment {
            start: segment.start_timestamp() as f64 / TICKS_PER_SEC,
            end: segment.end_timestamp() as f64 / TICKS_PER_SEC,
            text: text.to_owned(),
            speaker: None,
        });
    }
    Ok(segments)
}
