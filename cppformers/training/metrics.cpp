#include "cppformers/training/metrics.hpp"

#include <cmath>
#include <set>
#include <tuple>

#include "cppformers/core/error.hpp"
#include "cppformers/ops/reduce.hpp"

namespace cppformers {

namespace {

void check_sizes(const std::vector<int64_t>& p, const std::vector<int64_t>& l, const char* what) {
  if (p.size() != l.size())
    throw ValueError(std::string(what) + ": " + std::to_string(p.size()) + " predictions for " +
                     std::to_string(l.size()) + " labels");
}

double ratio(double a, double b) { return b == 0 ? 0.0 : a / b; }
double f1_of(double p, double r) { return p + r == 0 ? 0.0 : 2 * p * r / (p + r); }

}  // namespace

double accuracy(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels) {
  check_sizes(predictions, labels, "accuracy");
  int64_t n = 0, right = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == -100) continue;
    ++n;
    right += predictions[i] == labels[i];
  }
  return ratio(double(right), double(n));
}

PRF precision_recall_f1(const std::vector<int64_t>& predictions, const std::vector<int64_t>& labels,
                        const std::string& average, int64_t pos_label) {
  check_sizes(predictions, labels, "precision_recall_f1");
  std::map<int64_t, int64_t> tp, fp, fn, support;
  std::set<int64_t> classes;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == -100) continue;
    const int64_t y = labels[i], p = predictions[i];
    classes.insert(y);
    classes.insert(p);
    ++support[y];
    if (y == p) ++tp[y];
    else {
      ++fp[p];
      ++fn[y];
    }
  }
  PRF out;
  if (average == "micro") {
    double TP = 0, FP = 0, FN = 0;
    for (int64_t c : classes) {
      TP += tp[c];
      FP += fp[c];
      FN += fn[c];
    }
    out.precision = ratio(TP, TP + FP);
    out.recall = ratio(TP, TP + FN);
    out.f1 = f1_of(out.precision, out.recall);
    return out;
  }
  if (average == "binary") {
    const double P = ratio(tp[pos_label], tp[pos_label] + fp[pos_label]);
    const double R = ratio(tp[pos_label], tp[pos_label] + fn[pos_label]);
    return {P, R, f1_of(P, R)};
  }
  if (average != "macro" && average != "weighted")
    throw ValueError("precision_recall_f1: average should be macro, micro, weighted or binary, got '" + average + "'");
  double total_support = 0;
  for (int64_t c : classes) total_support += support[c];
  for (int64_t c : classes) {
    const double P = ratio(tp[c], tp[c] + fp[c]);
    const double R = ratio(tp[c], tp[c] + fn[c]);
    const double F = f1_of(P, R);
    const double w = average == "macro" ? 1.0 / double(classes.size()) : ratio(support[c], total_support);
    out.precision += w * P;
    out.recall += w * R;
    out.f1 += w * F;
  }
  return out;
}

bool Entity::operator<(const Entity& o) const { return std::tie(type, begin, end) < std::tie(o.type, o.begin, o.end); }

namespace {

bool end_of_chunk(const std::string& prev_tag, const std::string& tag, const std::string& prev_type,
                  const std::string& type) {
  if (prev_tag == "E" || prev_tag == "S") return true;
  if (prev_tag == "B" && (tag == "B" || tag == "S" || tag == "O")) return true;
  if (prev_tag == "I" && (tag == "B" || tag == "S" || tag == "O")) return true;
  if (prev_tag != "O" && prev_tag != "." && prev_type != type) return true;
  return false;
}

bool start_of_chunk(const std::string& prev_tag, const std::string& tag, const std::string& prev_type,
                    const std::string& type) {
  if (tag == "B" || tag == "S") return true;
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) return true;
  if (tag != "O" && tag != "." && prev_type != type) return true;
  return false;
}

}  // namespace

std::vector<Entity> get_entities(const std::vector<std::string>& seq) {
  std::vector<Entity> chunks;
  std::string prev_tag = "O", prev_type;
  int64_t begin = 0;
  for (size_t i = 0; i <= seq.size(); ++i) {
    const std::string chunk = i < seq.size() ? seq[i] : "O";
    std::string tag = chunk.empty() ? "" : chunk.substr(0, 1);
    // type_ = chunk[1:].split('-', maxsplit=1)[-1] or '_'
    std::string rest = chunk.size() > 1 ? chunk.substr(1) : "";
    const size_t dash = rest.find('-');
    std::string type = dash == std::string::npos ? rest : rest.substr(dash + 1);
    if (type.empty()) type = "_";
    if (end_of_chunk(prev_tag, tag, prev_type, type)) chunks.push_back({prev_type, begin, int64_t(i) - 1});
    if (start_of_chunk(prev_tag, tag, prev_type, type)) begin = int64_t(i);
    prev_tag = tag;
    prev_type = type;
  }
  return chunks;
}

SeqevalResult seqeval(const std::vector<std::vector<std::string>>& predictions,
                      const std::vector<std::vector<std::string>>& references) {
  if (predictions.size() != references.size())
    throw ValueError("seqeval: " + std::to_string(predictions.size()) + " predicted sequences for " +
                     std::to_string(references.size()) + " references");
  // seqeval flattens with an "O" after each sequence
  std::vector<std::string> p, r;
  int64_t right = 0, total = 0;
  for (size_t s = 0; s < references.size(); ++s) {
    if (predictions[s].size() != references[s].size())
      throw ValueError("seqeval: sequence " + std::to_string(s) + " has " + std::to_string(predictions[s].size()) +
                       " predicted tags for " + std::to_string(references[s].size()));
    for (size_t i = 0; i < references[s].size(); ++i) {
      right += predictions[s][i] == references[s][i];
      ++total;
    }
    p.insert(p.end(), predictions[s].begin(), predictions[s].end());
    p.push_back("O");
    r.insert(r.end(), references[s].begin(), references[s].end());
    r.push_back("O");
  }
  const auto pe = get_entities(p), re = get_entities(r);
  const std::set<Entity> ps(pe.begin(), pe.end()), rs(re.begin(), re.end());
  std::map<std::string, int64_t> n_pred, n_true, n_tp;
  for (const Entity& e : ps) ++n_pred[e.type];
  for (const Entity& e : rs) {
    ++n_true[e.type];
    if (ps.count(e)) ++n_tp[e.type];
  }
  SeqevalResult out;
  int64_t TP = 0, NP = 0, NT = 0;
  std::set<std::string> types;
  for (auto& [t, n] : n_pred) types.insert(t);
  for (auto& [t, n] : n_true) types.insert(t);
  for (const std::string& t : types) {
    SeqevalResult::PerType pt;
    pt.precision = ratio(n_tp[t], n_pred[t]);
    pt.recall = ratio(n_tp[t], n_true[t]);
    pt.f1 = f1_of(pt.precision, pt.recall);
    pt.number = n_true[t];
    out.per_type[t] = pt;
    TP += n_tp[t];
    NP += n_pred[t];
    NT += n_true[t];
  }
  out.precision = ratio(TP, NP);
  out.recall = ratio(TP, NT);
  out.f1 = f1_of(out.precision, out.recall);
  out.accuracy = ratio(right, total);
  return out;
}

double perplexity(double mean_loss) { return std::exp(mean_loss); }

ComputeMetrics classification_metrics(const std::string& average) {
  return [average](const EvalPrediction& ep) {
    const Tensor pred = ops::argmax(ep.predictions, -1);
    const auto p = pred.to_vector<int64_t>(), l = ep.label_ids.to_vector<int64_t>();
    const PRF prf = precision_recall_f1(p, l, average);
    return std::map<std::string, double>{
        {"accuracy", accuracy(p, l)}, {"precision", prf.precision}, {"recall", prf.recall}, {"f1", prf.f1}};
  };
}

ComputeMetrics token_classification_metrics(std::map<int64_t, std::string> id2label) {
  return [id2label](const EvalPrediction& ep) {
    if (ep.predictions.dim() != 3 || ep.label_ids.dim() != 2)
      throw ValueError("token_classification_metrics: expects logits [N, T, C] and labels [N, T]");
    const Tensor pred = ops::argmax(ep.predictions, -1);
    const auto p = pred.to_vector<int64_t>(), l = ep.label_ids.to_vector<int64_t>();
    const int64_t N = ep.label_ids.size(0), T = ep.label_ids.size(1);
    auto name = [&](int64_t id) {
      auto it = id2label.find(id);
      return it == id2label.end() ? std::string("O") : it->second;
    };
    std::vector<std::vector<std::string>> ps(N), rs(N);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < T; ++t) {
        if (l[n * T + t] == -100) continue;
        ps[n].push_back(name(p[n * T + t]));
        rs[n].push_back(name(l[n * T + t]));
      }
    const SeqevalResult r = seqeval(ps, rs);
    return std::map<std::string, double>{
        {"precision", r.precision}, {"recall", r.recall}, {"f1", r.f1}, {"accuracy", r.accuracy}};
  };
}

}  // namespace cppformers
