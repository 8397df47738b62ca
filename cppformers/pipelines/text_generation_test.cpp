#include "cppformers/pipelines/text_generation.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/generation/utils.hpp"
#include "cppformers/testing/fake_hub.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers {
namespace {

TEST(TextGenerationPipeline, ReplaysPythonCalls) {
  const std::string dir = testing::pipeline_fixture("text_generation");
  auto pipe = pipeline("text-generation", dir);
  EXPECT_EQ(testing::replay_pipeline_golden(dir, [&](const json& c) { return pipe->call(c["inputs"], c["kwargs"]); }), 5);
}

TEST(TextGenerationPipeline, TypedCallAndErrors) {
  const std::string dir = testing::pipeline_fixture("text_generation");
  auto pipe = pipeline("text-generation", dir);
  auto& tg = dynamic_cast<TextGenerationPipeline&>(*pipe);
  const std::string prompt = "Once upon a time";
  const std::string full = tg(prompt, {{"max_new_tokens", 4}, {"do_sample", false}});
  const std::string tail = tg(prompt, {{"max_new_tokens", 4}, {"do_sample", false}}, false);
  EXPECT_EQ(full, prompt + tail);  // return_full_text=False drops exactly the prompt
  EXPECT_FALSE(tail.empty());
  // chat messages need a chat template, and this tokenizer has none
  EXPECT_THROW(pipe->call(json::array({{{"role", "user"}, {"content", "hi"}}})), ValueError);
  EXPECT_THROW(pipe->call(prompt, {{"max_new_tokenz", 4}}), Error);  // unknown generate kwarg is named
}

// ---- chats ----------------------------------------------------------------------------------
// A chat model folder made at test time: the text_generation fixture (GPT-2) with the ChatML-style
// template of tokenizers/testdata/chat_goldens.json in its tokenizer_config.json. Expected values
// come from an independent path: the prompt rendered by real jinja2 (the goldens), tokenized,
// and generated greedily with the plain generate() API.

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const ojson& chat_goldens() {
  static const ojson g = [] {
    std::ifstream f(std::string(CPPFORMERS_SOURCE_DIR) + "/cppformers/tokenizers/testdata/chat_goldens.json");
    std::stringstream ss;
    ss << f.rdbuf();
    return ojson::parse(ss.str());
  }();
  return g;
}

// jinja2's render of the "chatml" template over a golden conversation with these settings.
std::string golden_chatml(const std::string& conversation, const std::string& settings) {
  const ojson want = ojson::parse(settings);
  for (const auto& r : chat_goldens()["families"])
    if (r["family"] == "chatml" && r["conversation"] == conversation && r["settings"] == want) return r["output"];
  ADD_FAILURE() << "no golden for chatml / " << conversation << " / " << settings;
  return "";
}
json conversation(const std::string& name) { return json::parse(chat_goldens()["conversations"][name].dump()); }

struct ChatModelFolder {
  fs::path dir;
  ChatModelFolder() {
    const fs::path src = testing::pipeline_fixture("text_generation");
    dir = fs::temp_directory_path() / ("cppformers_chat_model_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                          "special_tokens_map.json"})
      fs::copy_file(src / f, dir / f);
    std::ifstream in(src / "tokenizer_config.json");
    json cfg = json::parse(in);
    cfg["chat_template"] = chat_goldens()["family_templates"]["chatml"];
    std::ofstream(dir / "tokenizer_config.json") << cfg.dump(2);
  }
  ~ChatModelFolder() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path() const { return dir.string(); }
};

struct Greedy {
  std::vector<int64_t> sequence;  // prompt + new tokens
  std::string reply;              // the new tokens decoded (special tokens skipped)
};
// The plain API: the prompt text tokenized without special tokens, then greedy generate().
Greedy greedy(const std::string& dir, const std::string& prompt_text, int max_new_tokens) {
  AutoTokenizer tok = AutoTokenizer::from_pretrained(dir);
  const std::vector<int64_t> ids = tok.encode(prompt_text, false);
  auto model = AutoModelForCausalLM::from_pretrained(dir);
  GenerationConfig cfg = GenerationConfig::from_pretrained(dir, &model->config());
  cfg.update({{"max_new_tokens", max_new_tokens}, {"do_sample", false}}, "test");
  autograd::NoGradGuard no_grad;
  GenerateOutput out = generate(*model, Tensor::from_vector(ids, {1, int64_t(ids.size())}), Tensor(), cfg);
  Greedy g;
  g.sequence = out.sequences.at(0);
  g.reply = tok.decode(std::vector<int64_t>(g.sequence.begin() + int64_t(ids.size()), g.sequence.end()), true);
  return g;
}

TEST(TextGenerationPipeline, ChatMessagesInAssistantMessageOut) {
  ChatModelFolder folder;
  const json messages = conversation("system_user");
  const Greedy want = greedy(folder.path(), golden_chatml("system_user", R"({"add_generation_prompt": true})"), 6);
  ASSERT_FALSE(want.reply.empty());
  auto pipe = pipeline("text-generation", folder.path());
  const json kw = {{"max_new_tokens", 6}, {"do_sample", false}};

  json out = pipe->call(messages, kw);  // [{"generated_text": [...messages, {"role": "assistant", ...}]}]
  ASSERT_TRUE(out.is_array() && out.size() == 1) << out.dump();
  json expected = messages;
  expected.push_back({{"role", "assistant"}, {"content", want.reply}});
  EXPECT_EQ(out[0]["generated_text"], expected);

  json ids = pipe->call(messages, {{"max_new_tokens", 6}, {"do_sample", false}, {"return_tensors", true}});
  EXPECT_EQ(ids[0]["generated_token_ids"].get<std::vector<int64_t>>(), want.sequence);
  json tail = pipe->call(messages, {{"max_new_tokens", 6}, {"do_sample", false}, {"return_full_text", false}});
  EXPECT_EQ(tail[0]["generated_text"], want.reply);
  EXPECT_EQ(dynamic_cast<TextGenerationPipeline&>(*pipe).chat(messages, kw), want.reply);

  EXPECT_THROW(pipe->call(json::array({{{"role", "user"}}}), kw), ValueError);  // no content
}

TEST(TextGenerationPipeline, BatchOfChatsAndContinuingTheFinalMessage) {
  ChatModelFolder folder;
  auto pipe = pipeline("text-generation", folder.path());
  const json first = conversation("system_user"), second = conversation("no_system_multi");  // ends with assistant
  const json kw = {{"max_new_tokens", 4}, {"do_sample", false}};
  json out = pipe->call(json::array({first, second}), kw);
  ASSERT_TRUE(out.is_array() && out.size() == 2) << out.dump();

  const Greedy a = greedy(folder.path(), golden_chatml("system_user", R"({"add_generation_prompt": true})"), 4);
  json want_a = first;
  want_a.push_back({{"role", "assistant"}, {"content", a.reply}});
  EXPECT_EQ(out[0][0]["generated_text"], want_a);
  // a chat ending with an assistant message is continued (continue_final_message defaults to it)
  const Greedy b = greedy(folder.path(), golden_chatml("no_system_multi", R"({"continue_final_message": true})"), 4);
  json want_b = second;
  want_b.back()["content"] = second.back()["content"].get<std::string>() + b.reply;
  EXPECT_EQ(out[1][0]["generated_text"], want_b);
  // ... unless told otherwise: then a new assistant message follows the generation prompt
  json fresh = pipe->call(second, {{"max_new_tokens", 4}, {"do_sample", false}, {"continue_final_message", false}});
  const Greedy c = greedy(folder.path(), golden_chatml("no_system_multi", R"({"add_generation_prompt": true})"), 4);
  json want_c = second;
  want_c.push_back({{"role", "assistant"}, {"content", c.reply}});
  EXPECT_EQ(fresh[0]["generated_text"], want_c);
  // batched (left-padded) chats give the same structure
  json batched = pipe->call(json::array({first, second}), {{"max_new_tokens", 4}, {"do_sample", false}, {"batch_size", 2}});
  ASSERT_EQ(batched.size(), 2u);
  EXPECT_EQ(batched[0][0]["generated_text"].size(), first.size() + 1);
  EXPECT_EQ(batched[1][0]["generated_text"].size(), second.size());
}

TEST(GenerateCommand, ChatStreamsTheAssistantReply) {
  ChatModelFolder folder;
  const std::string user = conversation("single_user")[0]["content"];
  const Greedy want = greedy(folder.path(), golden_chatml("single_user", R"({"add_generation_prompt": true})"), 5);
  testing::CliRun r = testing::run_cli("generate --model " + folder.path() + " --chat '" + user +
                                       "' --max-new-tokens 5 --greedy --no-progress");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, want.reply + "\n");

  // stdin lines are the user's turns of one conversation (ChatML written out by hand here)
  const fs::path in = folder.dir / "turns.txt";
  std::ofstream(in) << "Hi\nWhat next?\n";
  r = testing::run_cli("generate --model " + folder.path() + " --chat --max-new-tokens 3 --greedy --no-progress < " +
                       in.string());
  EXPECT_EQ(r.code, 0) << r.err;
  const std::string p1 = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";
  const Greedy t1 = greedy(folder.path(), p1, 3);
  const std::string p2 = p1 + t1.reply + "<|im_end|>\n<|im_start|>user\nWhat next?<|im_end|>\n<|im_start|>assistant\n";
  const Greedy t2 = greedy(folder.path(), p2, 3);
  EXPECT_EQ(r.out, t1.reply + "\n" + t2.reply + "\n");

  r = testing::run_cli("generate --model " + folder.path() + " --chat Hi --max-new-tokens 3 --greedy --json --no-progress");
  EXPECT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["sequences"][0].get<std::vector<int64_t>>(), t1.sequence);
  // a model without a chat template: a clear error, exit code 1
  r = testing::run_cli("generate --model " + testing::pipeline_fixture("text_generation") + " --chat Hi --no-progress");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("chat_template"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cppformers
