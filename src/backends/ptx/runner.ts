// The artifact's host runner: C++17 on the CUDA driver API (no runtime library, no nvcc). It loads
// kernels.ptx (cuModuleLoadData: the driver JIT-compiles it for the GPU present), allocates the inputs,
// outputs, weights (one allocation, from weights.bin) and the arena, reads the inputs from .npy files, runs
// the kernels in order N times (timed with CUDA events), checks the status word, and writes the outputs
// as .npy. The launch plan is compiled in as tables (plan.json holds the same for other tools).
import { DTYPE_INFO, type DType } from '../../ir/dtype.js';
import type { LaunchPlan } from './module.js';

const numpyDescr = (t: string): string => (t === 'bf16' ? '<V2' : DTYPE_INFO[t as DType].numpy);

export function runnerSource(plan: LaunchPlan): string {
  const index = new Map(plan.buffers.map((b, i) => [b.name, i]));
  const bufRows = plan.buffers.map((b) =>
    `  {"${b.name}", ${['input', 'output', 'weight', 'temp'].indexOf(b.role)}, "${numpyDescr(b.dtype)}", ${b.bytes}ull, ${b.offset ?? 0}ull, ${b.shape.length}, {${b.shape.join(', ') || '0'}}},`);
  const paramRows: string[] = [];
  const kernelRows = plan.kernels.map((k) => {
    const first = paramRows.length;
    for (const p of k.params) paramRows.push(p === 'status' ? '-1' : String(index.get(p)));
    return `  {"${k.entry}", ${k.grid[0]}u, ${k.block[0]}u, ${k.sharedBytes}u, ${first}, ${k.params.length}},`;
  });
  const checks = plan.checks.map((c) => `  ${JSON.stringify(c)},`);
  return `// aic PTX runner for program @${plan.program} (generated). Build: make (needs the CUDA headers and libcuda).
//   ./runner [--runs N] [--warmup W] [--out DIR] input0.npy input1.npy ...
#include <cuda.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct BufferInfo { const char* name; int role; const char* descr; unsigned long long bytes; unsigned long long offset; int rank; long long shape[8]; };
struct KernelInfo { const char* entry; unsigned grid; unsigned block; unsigned shared; int firstParam; int params; };

const BufferInfo kBuffers[] = {
${bufRows.join('\n')}
};
const int kParams[] = { ${paramRows.join(', ') || '0'} };
const KernelInfo kKernels[] = {
${kernelRows.join('\n') || '  {"", 0u, 0u, 0u, 0, 0},'}
};
const int kKernelCount = ${plan.kernels.length};
const int kInputs[] = { ${plan.inputs.map((n) => index.get(n)).join(', ') || '-1'} };
const int kInputCount = ${plan.inputs.length};
const int kOutputs[] = { ${plan.outputs.map((n) => index.get(n)).join(', ') || '-1'} };
const int kOutputCount = ${plan.outputs.length};
const char* const kChecks[] = {
${checks.join('\n') || '  "",'}
};
const unsigned long long kArenaBytes = ${plan.arenaBytes}ull;
const unsigned long long kWeightsBytes = ${plan.weightsBytes}ull;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "aic-ptx: error: %s\\n", message.c_str());
  std::exit(1);
}

void check(CUresult r, const char* what) {
  if (r == CUDA_SUCCESS) return;
  const char* name = nullptr;
  cuGetErrorName(r, &name);
  die(std::string(what) + " failed: " + (name ? name : "unknown error"));
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A .npy file's header: descr and shape must be the buffer's; the data follows.
std::string readNpy(const std::string& path, const BufferInfo& b) {
  std::string all = readFile(path);
  if (all.size() < 10 || all.compare(0, 6, "\\x93NUMPY") != 0) die(path + ": not a .npy file");
  unsigned major = static_cast<unsigned char>(all[6]);
  size_t headerLen, start;
  if (major == 1) { headerLen = static_cast<unsigned char>(all[8]) | (static_cast<unsigned char>(all[9]) << 8); start = 10; }
  else { headerLen = 0; for (int i = 0; i < 4; ++i) headerLen |= static_cast<size_t>(static_cast<unsigned char>(all[8 + i])) << (8 * i); start = 12; }
  std::string header = all.substr(start, headerLen);
  if (header.find(std::string("'") + b.descr + "'") == std::string::npos) die(path + ": expected dtype " + b.descr + " for " + b.name);
  if (header.find("'fortran_order': True") != std::string::npos) die(path + ": Fortran order is not supported");
  std::string data = all.substr(start + headerLen);
  if (data.size() != b.bytes) die(path + ": expected " + std::to_string(b.bytes) + " bytes of data for " + b.name + ", got " + std::to_string(data.size()));
  return data;
}

void writeNpy(const std::string& path, const BufferInfo& b, const std::vector<char>& data) {
  std::string shape = "(";
  for (int i = 0; i < b.rank; ++i) shape += std::to_string(b.shape[i]) + (b.rank == 1 || i + 1 < b.rank ? "," : "");
  shape += ")";
  std::string header = std::string("{'descr': '") + b.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) die("cannot write " + path);
  const unsigned short len = static_cast<unsigned short>(header.size());
  f.write("\\x93NUMPY\\x01\\x00", 8);
  f.put(static_cast<char>(len & 0xff));
  f.put(static_cast<char>(len >> 8));
  f << header;
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 1, warmup = 0;
  std::string out = ".", dir = ".";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--warmup" && i + 1 < argc) warmup = std::max(0, std::atoi(argv[++i]));
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else inputs.push_back(a);
  }
  if (static_cast<int>(inputs.size()) != kInputCount) die("expected " + std::to_string(kInputCount) + " input .npy files, got " + std::to_string(inputs.size()));

  check(cuInit(0), "cuInit");
  CUdevice device;
  check(cuDeviceGet(&device, 0), "cuDeviceGet");
  CUcontext context;
  check(cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
  check(cuCtxSetCurrent(context), "cuCtxSetCurrent");

  std::string ptx = readFile(dir + "/kernels.ptx");
  CUmodule module;
  check(cuModuleLoadData(&module, ptx.c_str()), "cuModuleLoadData (kernels.ptx)");
  std::vector<CUfunction> functions(kKernelCount);
  for (int k = 0; k < kKernelCount; ++k) check(cuModuleGetFunction(&functions[k], module, kKernels[k].entry), kKernels[k].entry);

  const int nBuffers = static_cast<int>(sizeof(kBuffers) / sizeof(kBuffers[0]));
  std::vector<CUdeviceptr> ptr(nBuffers, 0);
  CUdeviceptr weights = 0, arena = 0, status = 0;
  if (kWeightsBytes > 0) {
    std::string w = readFile(dir + "/weights.bin");
    if (w.size() != kWeightsBytes) die("weights.bin holds " + std::to_string(w.size()) + " bytes, expected " + std::to_string(kWeightsBytes));
    check(cuMemAlloc(&weights, kWeightsBytes), "cuMemAlloc (weights)");
    check(cuMemcpyHtoD(weights, w.data(), w.size()), "cuMemcpyHtoD (weights)");
  }
  if (kArenaBytes > 0) check(cuMemAlloc(&arena, kArenaBytes), "cuMemAlloc (arena)");
  check(cuMemAlloc(&status, 4), "cuMemAlloc (status)");
  check(cuMemsetD32(status, 0, 1), "cuMemsetD32");
  for (int i = 0; i < nBuffers; ++i) {
    const BufferInfo& b = kBuffers[i];
    if (b.role == 2) ptr[i] = weights + b.offset;
    else if (b.role == 3) ptr[i] = arena + b.offset;
    else if (b.bytes > 0) check(cuMemAlloc(&ptr[i], b.bytes), b.name);
  }
  for (int i = 0; i < kInputCount; ++i) {
    const BufferInfo& b = kBuffers[kInputs[i]];
    std::string data = readNpy(inputs[i], b);
    if (b.bytes > 0) check(cuMemcpyHtoD(ptr[kInputs[i]], data.data(), data.size()), "cuMemcpyHtoD (input)");
  }

  auto launchAll = [&]() {
    for (int k = 0; k < kKernelCount; ++k) {
      const KernelInfo& info = kKernels[k];
      if (info.grid == 0) continue;  // an empty domain
      std::vector<CUdeviceptr> values(info.params);
      std::vector<void*> args(info.params);
      for (int j = 0; j < info.params; ++j) {
        const int buffer = kParams[info.firstParam + j];
        values[j] = buffer < 0 ? status : ptr[buffer];
        args[j] = &values[j];
      }
      check(cuLaunchKernel(functions[k], info.grid, 1, 1, info.block, 1, 1, 0, nullptr, args.data(), nullptr), info.entry);
    }
  };
  for (int i = 0; i < warmup; ++i) launchAll();
  CUevent start, stop;
  check(cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
  check(cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate");
  std::vector<float> times;
  for (int r = 0; r < runs; ++r) {
    check(cuEventRecord(start, nullptr), "cuEventRecord");
    launchAll();
    check(cuEventRecord(stop, nullptr), "cuEventRecord");
    check(cuEventSynchronize(stop), "cuEventSynchronize");
    float ms = 0;
    check(cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
    times.push_back(ms);
  }
  unsigned failed = 0;
  check(cuMemcpyDtoH(&failed, status, 4), "cuMemcpyDtoH (status)");
  if (failed != 0) die(std::string("a kernel check failed: ") + kChecks[failed - 1]);
  std::sort(times.begin(), times.end());
  std::printf("{\\"runs\\": %d, \\"medianMs\\": %.6f, \\"minMs\\": %.6f}\\n", runs, times[times.size() / 2], times[0]);

  for (int i = 0; i < kOutputCount; ++i) {
    const BufferInfo& b = kBuffers[kOutputs[i]];
    std::vector<char> host(b.bytes);
    if (b.bytes > 0) check(cuMemcpyDtoH(host.data(), ptr[kOutputs[i]], b.bytes), "cuMemcpyDtoH (output)");
    writeNpy(out + "/output_" + std::to_string(i) + ".npy", b, host);
  }
  cuModuleUnload(module);
  cuDevicePrimaryCtxRelease(device);
  return 0;
}
`;
}

/** The Makefile: the CUDA headers under $(CUDA_HOME)/include, libcuda from the driver (or the toolkit's stub). */
export function makefile(): string {
  return `# Builds the aic PTX runner. libcuda comes with the NVIDIA driver; the toolkit's stub links where no driver is.
CUDA_HOME ?= /usr/local/cuda
CXX ?= g++
CXXFLAGS ?= -O2 -std=c++17 -Wall
LDFLAGS ?= -L$(CUDA_HOME)/lib64 -L$(CUDA_HOME)/lib64/stubs

runner: runner.cpp
\t$(CXX) $(CXXFLAGS) -I$(CUDA_HOME)/include runner.cpp -o runner $(LDFLAGS) -lcuda

check: runner.cpp
\t$(CXX) $(CXXFLAGS) -fsyntax-only -I$(CUDA_HOME)/include runner.cpp

clean:
\trm -f runner

.PHONY: check clean
`;
}
