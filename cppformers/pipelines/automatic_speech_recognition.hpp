#pragma once
// automatic-speech-recognition for CTC models (Wav2Vec2ForCTC), as transformers'
// AutomaticSpeechRecognitionPipeline: audio file -> 16 kHz mono -> Wav2Vec2FeatureExtractor ->
// logits -> argmax per frame -> Wav2Vec2CTCTokenizer decoding (repeats merged, blanks dropped,
// '|' -> ' '); long audio in chunks with strides; return_timestamps "char" / "word".
#include <map>

#include "cppformers/pipelines/pipeline.hpp"
#include "cppformers/processors/audio.hpp"

namespace cppformers {

// The decoding half of Wav2Vec2CTCTokenizer (vocab.json + special tokens).
struct CTCVocabulary {
  std::map<int64_t, std::string> id_to_token;
  std::string pad_token = "<pad>", word_delimiter_token = "|";
  static CTCVocabulary from_pretrained(const std::string& dir);
  struct Offset {
    std::string text;
    int64_t start, end;  // frames
  };
  // Text of per-frame ids; char/word offsets if asked.
  std::string decode(const std::vector<int64_t>& frame_ids, std::vector<Offset>* chars = nullptr,
                     std::vector<Offset>* words = nullptr) const;
};

class AutomaticSpeechRecognitionPipeline : public Pipeline {
 public:
  AutomaticSpeechRecognitionPipeline(std::shared_ptr<PreTrainedModel> model, CTCVocabulary vocab,
                                     processors::Wav2Vec2FeatureExtractor fe);
  // Per-frame argmax ids of a waveform (16 kHz), in chunks when chunk_length_s > 0.
  std::vector<int64_t> frame_ids(const std::vector<float>& wave, double chunk_length_s = 0,
                                 double stride_left_s = -1, double stride_right_s = -1);
  // pipe(audio_path, chunk_length_s=..., stride_length_s=..., return_timestamps=None|"char"|"word").
  json call(const json& inputs, const json& kwargs = json::object()) override;
  CTCVocabulary vocab;
  processors::Wav2Vec2FeatureExtractor feature_extractor;
  int64_t inputs_to_logits_ratio = 320;
};

}  // namespace cppformers
