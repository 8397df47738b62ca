#pragma once
// Every op, for code that uses many (models, tests).
#include "cppformers/ops/elementwise.hpp"
#include "cppformers/ops/indexing.hpp"
#include "cppformers/ops/loss.hpp"
#include "cppformers/ops/matmul.hpp"
#include "cppformers/ops/norm.hpp"
#include "cppformers/ops/random.hpp"
#include "cppformers/ops/reduce.hpp"
#include "cppformers/ops/rms_norm.hpp"
#include "cppformers/ops/rotary.hpp"
#include "cppformers/ops/shape.hpp"
#include "cppformers/ops/softmax.hpp"
