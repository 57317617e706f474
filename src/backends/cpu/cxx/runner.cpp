// main.cpp: a runner for a model compiled by aic's CPU backend. It only uses the model's C ABI (model.h),
// so it is the same file for every model.
//
//   ./model [--weights weights.bin] [--threads N] [--out DIR] [--runs R] [--warmup W] INPUT...
//
// INPUT is a .npy or an ONNX TensorProto .pb file, one per model input in order (or NAME=FILE). The outputs
// are written as DIR/output_K.npy (default: a summary is printed). With --runs, the model runs W times to
// warm up, then R times, each timed, and the last line of stdout is
//   {"runs": R, "threads": T, "medianMs": ..., "minMs": ..., "meanMs": ...}
//
// Several models can share one executable (aic's tests do): define AIC_RUNNER_NO_MAIN, include the models'
// headers, declare AIC_RUNNER_API(prefix) for each and call aic_runner::run_main<Api_prefix>(argc, argv).
#ifndef AIC_RUNNER_NO_MAIN
#include "model.h"
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The C ABI of the model with prefix P as a type (the functions are static members).
#define AIC_RUNNER_API2(P)                                                                          \
  struct Api_##P {                                                                                  \
    using Model = P##_t;                                                                            \
    static int num_inputs() { return P##_num_inputs(); }                                            \
    static int num_outputs() { return P##_num_outputs(); }                                          \
    static const aic_tensor_info* input_info(int i) { return P##_input_info(i); }                   \
    static const aic_tensor_info* output_info(int k) { return P##_output_info(k); }                 \
    static Model* create(const char* w, void* ws) { return P##_create(w, ws); }                     \
    static void destroy(Model* m) { P##_destroy(m); }                                               \
    static void set_threads(Model* m, int t) { P##_set_threads(m, t); }                            \
    static int bind(Model* m, const int64_t* const* s) { return P##_bind(m, s); }                   \
    static int output_shape(const Model* m, int k, int64_t* d) { return P##_output_shape(m, k, d); } \
    static int run(Model* m, const void* const* i, void* const* o) { return P##_run(m, i, o); }     \
    static const char* last_error(const Model* m) { return P##_last_error(m); }                     \
    static const void* output_data(const Model* m, int k) { return P##_output_data(m, k); }         \
  };
#define AIC_RUNNER_API(P) AIC_RUNNER_API2(P)

namespace aic_runner {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DTypeInfo {
  int code;
  const char* name;
  const char* descr;
  int bytes;
  int bits;  // of the format: below 8, ONNX raw data packs several to a byte
};

const DTypeInfo kTypes[] = {
    {AIC_F32, "f32", "<f4", 4, 32},   {AIC_F64, "f64", "<f8", 8, 64},   {AIC_F16, "f16", "<f2", 2, 16},  {AIC_BF16, "bf16", "<V2", 2, 16},
    {AIC_I8, "i8", "|i1", 1, 8},      {AIC_I16, "i16", "<i2", 2, 16},   {AIC_I32, "i32", "<i4", 4, 32},  {AIC_I64, "i64", "<i8", 8, 64},
    {AIC_U8, "u8", "|u1", 1, 8},      {AIC_U16, "u16", "<u2", 2, 16},   {AIC_U32, "u32", "<u4", 4, 32},  {AIC_U64, "u64", "<u8", 8, 64},
    {AIC_BOOL, "bool", "|b1", 1, 8},
    {AIC_F8E4M3FN, "f8e4m3fn", "|V1", 1, 8}, {AIC_F8E4M3FNUZ, "f8e4m3fnuz", "|V1", 1, 8}, {AIC_F8E5M2, "f8e5m2", "|V1", 1, 8},
    {AIC_F8E5M2FNUZ, "f8e5m2fnuz", "|V1", 1, 8}, {AIC_F8E8M0, "f8e8m0", "|V1", 1, 8}, {AIC_F4E2M1, "f4e2m1", "|V1", 1, 4},
    {AIC_U4, "u4", "|V1", 1, 4}, {AIC_I4, "i4", "|V1", 1, 4}, {AIC_U2, "u2", "|V1", 1, 2}, {AIC_I2, "i2", "|V1", 1, 2},
};

const DTypeInfo& type_of(int code) {
  for (const auto& t : kTypes)
    if (t.code == code) return t;
  throw Error("unknown element type " + std::to_string(code));
}

struct Tensor {
  int dtype = 0;
  std::vector<int64_t> shape;
  std::vector<unsigned char> data;
};

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot be read");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---- .npy ----

std::string dict_value(const std::string& header, const std::string& key) {
  const std::size_t k = header.find("'" + key + "'");
  if (k == std::string::npos) throw Error("npy header has no '" + key + "'");
  std::size_t i = header.find(':', k);
  if (i == std::string::npos) throw Error("bad npy header");
  ++i;
  while (i < header.size() && header[i] == ' ') ++i;
  if (header[i] == '\'') {
    const std::size_t e = header.find('\'', i + 1);
    return header.substr(i + 1, e - i - 1);
  }
  if (header[i] == '(') {
    const std::size_t e = header.find(')', i);
    return header.substr(i, e - i + 1);
  }
  std::size_t e = i;
  while (e < header.size() && header[e] != ',' && header[e] != '}') ++e;
  return header.substr(i, e - i);
}

Tensor read_npy(const std::string& path, const std::string& bytes, int want_dtype) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw Error(path + ": not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t hlen, start;
  if (major == 1) {
    hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    start = 10;
  } else {
    if (bytes.size() < 12) throw Error(path + ": truncated .npy header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    start = 12;
  }
  if (start + hlen > bytes.size()) throw Error(path + ": truncated .npy header");
  const std::string header = bytes.substr(start, hlen);
  const std::string descr = dict_value(header, "descr");
  if (dict_value(header, "fortran_order").find("True") != std::string::npos) throw Error(path + ": Fortran-ordered arrays are not read; save it C-ordered");
  Tensor t;
  t.dtype = want_dtype;
  const DTypeInfo& ti = type_of(want_dtype);
  std::string d = descr;
  if (d == "=f4" || d == "f4") d = "<f4";
  if (d != ti.descr && !(d[0] == '<' && ti.descr[0] == '|' && d.substr(1) == std::string(ti.descr).substr(1)))
    throw Error(path + ": holds " + descr + ", the model wants " + ti.name + " (" + ti.descr + ")");
  const std::string shape = dict_value(header, "shape");
  std::size_t i = 1;
  while (i < shape.size()) {
    while (i < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i >= shape.size() || shape[i] == ')') break;
    std::size_t e = i;
    while (e < shape.size() && std::isdigit(static_cast<unsigned char>(shape[e]))) ++e;
    t.shape.push_back(std::stoll(shape.substr(i, e - i)));
    i = e;
  }
  const std::size_t n = static_cast<std::size_t>(numel(t.shape)) * ti.bytes;
  if (start + hlen + n > bytes.size()) throw Error(path + ": truncated .npy data");
  t.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(start + hlen), bytes.begin() + static_cast<std::ptrdiff_t>(start + hlen + n));
  return t;
}

void write_npy(const std::string& path, const Tensor& t) {
  const DTypeInfo& ti = type_of(t.dtype);
  std::string shape = "(";
  for (std::size_t i = 0; i < t.shape.size(); ++i) shape += std::to_string(t.shape[i]) + (t.shape.size() == 1 ? "," : i + 1 < t.shape.size() ? ", " : "");
  shape += ")";
  std::string dict = std::string("{'descr': '") + ti.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  std::size_t total = 10 + dict.size() + 1;
  const std::size_t pad = (64 - total % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(path + ": cannot be written");
  const unsigned char head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(dict.size() & 0xff), static_cast<unsigned char>(dict.size() >> 8)};
  f.write(reinterpret_cast<const char*>(head), 10);
  f.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  f.write(reinterpret_cast<const char*>(t.data.data()), static_cast<std::streamsize>(t.data.size()));
  if (!f) throw Error(path + ": cannot be written");
}

// ---- ONNX TensorProto (.pb) ----

struct Reader {
  const unsigned char* p;
  const unsigned char* end;
  uint64_t varint() {
    uint64_t v = 0;
    for (int s = 0; s < 64 && p < end; s += 7) {
      const unsigned char b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << s;
      if (!(b & 0x80)) return v;
    }
    throw Error("bad varint");
  }
};

Tensor read_pb(const std::string& path, const std::string& bytes, int want_dtype) {
  Reader r{reinterpret_cast<const unsigned char*>(bytes.data()), reinterpret_cast<const unsigned char*>(bytes.data()) + bytes.size()};
  Tensor t;
  int dtype = 0;
  std::string raw;
  bool have_raw = false;
  std::vector<uint64_t> ints;    // int32_data, int64_data, uint64_data (as bits)
  std::vector<float> floats;
  std::vector<double> doubles;
  while (r.p < r.end) {
    const uint64_t key = r.varint();
    const int field = static_cast<int>(key >> 3), wire = static_cast<int>(key & 7);
    if (wire == 0) {
      const uint64_t v = r.varint();
      if (field == 1) t.shape.push_back(static_cast<int64_t>(v));
      else if (field == 2) dtype = static_cast<int>(v);
      else if (field == 5 || field == 7 || field == 11) ints.push_back(v);
    } else if (wire == 2) {
      const uint64_t len = r.varint();
      if (static_cast<uint64_t>(r.end - r.p) < len) throw Error(path + ": truncated TensorProto");
      const unsigned char* q = r.p;
      r.p += len;
      Reader sub{q, q + len};
      if (field == 1) while (sub.p < sub.end) t.shape.push_back(static_cast<int64_t>(sub.varint()));
      else if (field == 5 || field == 7 || field == 11) while (sub.p < sub.end) ints.push_back(sub.varint());
      else if (field == 4) for (uint64_t i = 0; i + 4 <= len; i += 4) { float f; std::memcpy(&f, q + i, 4); floats.push_back(f); }
      else if (field == 10) for (uint64_t i = 0; i + 8 <= len; i += 8) { double f; std::memcpy(&f, q + i, 8); doubles.push_back(f); }
      else if (field == 9) { raw.assign(reinterpret_cast<const char*>(q), len); have_raw = true; }
      else if (field == 13 || field == 14) throw Error(path + ": tensors with external data are not read by the runner");
    } else if (wire == 5) {
      if (r.end - r.p < 4) throw Error(path + ": truncated TensorProto");
      if (field == 4) { float f; std::memcpy(&f, r.p, 4); floats.push_back(f); }
      r.p += 4;
    } else if (wire == 1) {
      if (r.end - r.p < 8) throw Error(path + ": truncated TensorProto");
      if (field == 10) { double f; std::memcpy(&f, r.p, 8); doubles.push_back(f); }
      r.p += 8;
    } else throw Error(path + ": not a TensorProto");
  }
  if (dtype != want_dtype) throw Error(path + ": holds element type " + std::to_string(dtype) + ", the model wants " + type_of(want_dtype).name);
  t.dtype = dtype;
  const DTypeInfo& ti = type_of(dtype);
  const std::size_t n = static_cast<std::size_t>(numel(t.shape));
  t.data.resize(n * ti.bytes);
  if (have_raw && ti.bits < 8) {
    // Sub-byte formats: packed low bits first; unpack one to a byte.
    const int per = 8 / ti.bits;
    if (raw.size() != (n + static_cast<std::size_t>(per) - 1) / static_cast<std::size_t>(per)) throw Error(path + ": raw_data has the wrong length");
    for (std::size_t i = 0; i < n; ++i)
      t.data[i] = static_cast<unsigned char>((static_cast<unsigned char>(raw[i / static_cast<std::size_t>(per)]) >> ((i % static_cast<std::size_t>(per)) * static_cast<std::size_t>(ti.bits))) & ((1u << ti.bits) - 1u));
    return t;
  }
  if (have_raw) {
    if (raw.size() != t.data.size()) throw Error(path + ": raw_data has " + std::to_string(raw.size()) + " bytes, the shape needs " + std::to_string(t.data.size()));
    std::memcpy(t.data.data(), raw.data(), raw.size());
    return t;
  }
  unsigned char* d = t.data.data();
  if (dtype == AIC_F32) {
    if (floats.size() != n) throw Error(path + ": float_data has the wrong length");
    std::memcpy(d, floats.data(), n * 4);
  } else if (dtype == AIC_F64) {
    if (doubles.size() != n) throw Error(path + ": double_data has the wrong length");
    std::memcpy(d, doubles.data(), n * 8);
  } else if (ti.bits < 8) {
    // int32_data packs sub-byte formats too (one int32 per byte of packed data)
    const int per = 8 / ti.bits;
    if (ints.size() != (n + static_cast<std::size_t>(per) - 1) / static_cast<std::size_t>(per)) throw Error(path + ": int32_data has the wrong length");
    for (std::size_t i = 0; i < n; ++i)
      d[i] = static_cast<unsigned char>((ints[i / static_cast<std::size_t>(per)] >> ((i % static_cast<std::size_t>(per)) * static_cast<std::size_t>(ti.bits))) & ((1u << ti.bits) - 1u));
  } else {
    if (ints.size() != n) throw Error(path + ": the int data has the wrong length");
    for (std::size_t i = 0; i < n; ++i) std::memcpy(d + i * ti.bytes, &ints[i], static_cast<std::size_t>(ti.bytes));  // little-endian
  }
  return t;
}

Tensor read_tensor(const std::string& path, int dtype) {
  const std::string bytes = read_file(path);
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0) return read_npy(path, bytes, dtype);
  return read_pb(path, bytes, dtype);
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

double element(const Tensor& t, std::size_t i) {
  const unsigned char* p = t.data.data() + i * static_cast<std::size_t>(type_of(t.dtype).bytes);
  switch (t.dtype) {
    case AIC_F32: { float v; std::memcpy(&v, p, 4); return v; }
    case AIC_F64: { double v; std::memcpy(&v, p, 8); return v; }
    case AIC_I8: return static_cast<int8_t>(*p);
    case AIC_U8: case AIC_BOOL: return *p;
    case AIC_I16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case AIC_U16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case AIC_I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case AIC_U32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case AIC_I64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    case AIC_U64: { uint64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    case AIC_BF16: { uint16_t h; std::memcpy(&h, p, 2); uint32_t u = static_cast<uint32_t>(h) << 16; float v; std::memcpy(&v, &u, 4); return v; }
    case AIC_F16: {
      uint16_t h; std::memcpy(&h, p, 2);
      const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
      const double s = (h & 0x8000) ? -1.0 : 1.0;
      if (e == 0) return s * m * std::ldexp(1.0, -24);
      if (e == 31) return m ? NAN : s * INFINITY;
      return s * (1.0 + m / 1024.0) * std::ldexp(1.0, e - 15);
    }
    default: return 0;
  }
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: model [--weights FILE] [--threads N] [--out DIR] [--runs R] [--warmup W] INPUT...\n"
               "  INPUT: a .npy or .pb file per model input, in order, or NAME=FILE\n");
  std::exit(2);
}

template <class A>
int run_main(int argc, char** argv) {
  std::string weights = "weights.bin", out_dir;
  int threads = 0, runs = 0, warmup = 3;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { if (i + 1 >= argc) usage(); return argv[++i]; };
    if (a == "--weights") weights = next();
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--out") out_dir = next();
    else if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--warmup") warmup = std::atoi(next().c_str());
    else if (a == "-h" || a == "--help") usage();
    else if (!a.empty() && a[0] == '-') usage();
    else files.push_back(a);
  }
  try {
    const int nin = A::num_inputs(), nout = A::num_outputs();
    if (static_cast<int>(files.size()) != nin) throw Error("the model takes " + std::to_string(nin) + " inputs, " + std::to_string(files.size()) + " given");
    std::vector<Tensor> inputs(static_cast<std::size_t>(nin));
    std::vector<bool> given(static_cast<std::size_t>(nin), false);
    for (int k = 0; k < nin; ++k) {
      std::string spec = files[static_cast<std::size_t>(k)], file = spec;
      int idx = k;
      const std::size_t eq = spec.find('=');
      if (eq != std::string::npos && eq > 0) {
        const std::string name = spec.substr(0, eq);
        file = spec.substr(eq + 1);
        idx = -1;
        for (int i = 0; i < nin; ++i) if (name == A::input_info(i)->name) idx = i;
        if (idx < 0) throw Error("the model has no input '" + name + "'");
      }
      if (given[static_cast<std::size_t>(idx)]) throw Error(std::string("input '") + A::input_info(idx)->name + "' given twice");
      given[static_cast<std::size_t>(idx)] = true;
      const aic_tensor_info* info = A::input_info(idx);
      inputs[static_cast<std::size_t>(idx)] = read_tensor(file, info->dtype);
      const Tensor& t = inputs[static_cast<std::size_t>(idx)];
      if (static_cast<int>(t.shape.size()) != info->rank) throw Error(file + ": rank " + std::to_string(t.shape.size()) + ", input '" + info->name + "' has rank " + std::to_string(info->rank));
    }
    typename A::Model* m = A::create(weights.c_str(), nullptr);
    if (!m) throw Error(A::last_error(nullptr));
    A::set_threads(m, threads);
    std::vector<const int64_t*> shapes;
    std::vector<const void*> in_ptrs;
    for (const Tensor& t : inputs) {
      shapes.push_back(t.shape.data());
      in_ptrs.push_back(t.data.data());
    }
    if (A::bind(m, shapes.data()) != 0) throw Error(A::last_error(m));
    std::vector<Tensor> outputs(static_cast<std::size_t>(nout));
    std::vector<void*> out_ptrs;
    std::vector<bool> held(static_cast<std::size_t>(nout), false);  // sizes the data decides: the model holds them
    for (int k = 0; k < nout; ++k) {
      const aic_tensor_info* info = A::output_info(k);
      Tensor& o = outputs[static_cast<std::size_t>(k)];
      o.dtype = info->dtype;
      o.shape.resize(static_cast<std::size_t>(info->rank) + 1);
      if (A::output_shape(m, k, o.shape.data()) != 0) {
        held[static_cast<std::size_t>(k)] = true;
        out_ptrs.push_back(nullptr);
        continue;
      }
      o.shape.pop_back();
      o.data.resize(static_cast<std::size_t>(numel(o.shape)) * static_cast<std::size_t>(type_of(o.dtype).bytes) + 1);
      out_ptrs.push_back(o.data.data());
    }
    if (A::run(m, in_ptrs.data(), out_ptrs.data()) != 0) throw Error(A::last_error(m));
    for (int k = 0; k < nout; ++k) {
      Tensor& o = outputs[static_cast<std::size_t>(k)];
      if (!held[static_cast<std::size_t>(k)]) {
        o.data.pop_back();
        continue;
      }
      o.shape.resize(static_cast<std::size_t>(A::output_info(k)->rank) + 1);
      if (A::output_shape(m, k, o.shape.data()) != 0) throw Error(A::last_error(m));
      o.shape.pop_back();
      const std::size_t bytes = static_cast<std::size_t>(numel(o.shape)) * static_cast<std::size_t>(type_of(o.dtype).bytes);
      const void* data = A::output_data(m, k);
      o.data.assign(static_cast<const unsigned char*>(data), static_cast<const unsigned char*>(data) + (data ? bytes : 0));
    }
    if (!out_dir.empty()) {
      for (int k = 0; k < nout; ++k) write_npy(out_dir + "/output_" + std::to_string(k) + ".npy", outputs[static_cast<std::size_t>(k)]);
    } else if (runs == 0) {
      for (int k = 0; k < nout; ++k) {
        const Tensor& o = outputs[static_cast<std::size_t>(k)];
        const aic_tensor_info* info = A::output_info(k);
        std::printf("%s %s%s", info->name, type_of(o.dtype).name, shape_text(o.shape).c_str());
        const std::size_t n = static_cast<std::size_t>(numel(o.shape));
        std::printf(" [");
        for (std::size_t i = 0; i < n && i < 6; ++i) std::printf("%s%.6g", i ? ", " : "", element(o, i));
        std::printf("%s]\n", n > 6 ? ", ..." : "");
      }
    }
    if (runs > 0) {
      for (Tensor& o : outputs) o.data.push_back(0);
      for (int i = 0; i < warmup; ++i)
        if (A::run(m, in_ptrs.data(), out_ptrs.data()) != 0) throw Error(A::last_error(m));
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        if (A::run(m, in_ptrs.data(), out_ptrs.data()) != 0) throw Error(A::last_error(m));
        const auto t1 = std::chrono::steady_clock::now();
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::vector<double> sorted = ms;
      std::sort(sorted.begin(), sorted.end());
      const std::size_t n = sorted.size();
      const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
      double mean = 0;
      for (double x : ms) mean += x;
      mean /= static_cast<double>(n);
      const int used = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
      std::printf("{\"runs\": %d, \"threads\": %d, \"medianMs\": %.6f, \"minMs\": %.6f, \"meanMs\": %.6f}\n", runs, used, median, sorted[0], mean);
    }
    A::destroy(m);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aic: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace aic_runner

#ifndef AIC_RUNNER_NO_MAIN
#ifndef AIC_PREFIX
#define AIC_PREFIX aic_model
#endif
AIC_RUNNER_API(AIC_PREFIX)
#define AIC_API_NAME2(P) Api_##P
#define AIC_API_NAME(P) AIC_API_NAME2(P)
int main(int argc, char** argv) { return aic_runner::run_main<AIC_API_NAME(AIC_PREFIX)>(argc, argv); }
#endif
