/// <reference types="@webgpu/types" />
// A GPUDevice in Node, through the `webgpu` package (Dawn). One device per thread, made on first use.
//
// Without a GPU it runs on Mesa's software OpenGL (llvmpipe) through EGL: Dawn's OpenGL backend with a
// compatibility adapter. EGL needs EGL_PLATFORM=surfaceless, which is set here, in the main thread, before
// anything loads Dawn: a worker thread's process.env is its own copy, so workers (the conformance pool)
// see it only when the main thread set it before they started. Dawn's Vulkan path is tried first where a
// Vulkan driver is installed (a real GPU); AIC_WEBGPU_BACKEND=opengl|vulkan|null picks one.
//
// The object create() returns must stay referenced for the life of the process (Dawn crashes when it is
// collected while its devices live). A worker thread that has loaded Dawn is not terminated: its device is
// destroyed and the thread left idle until the process ends (conformance.ts).
import { existsSync, readdirSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { fail } from '../ir/error.js';

if (isMainThread && process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';

interface DawnModule {
  create(flags: string[]): GPU;
}

export interface NodeGpu {
  readonly device: GPUDevice;
  /** How the device was made (`opengl (compatibility)`, `vulkan`, `null`). */
  readonly backend: string;
}

/** Every GPU instance ever made: referenced for the life of the process. */
const instances: GPU[] = [];
const devices = new Map<string, Promise<NodeGpu | string>>();

/** Is a Vulkan driver installed (else trying Dawn's Vulkan backend only prints errors)? */
function hasVulkanDriver(): boolean {
  for (const dir of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d']) {
    try {
      if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json') && !/lvp|lavapipe/.test(f))) return true;
    } catch {
      // unreadable: no driver from here
    }
  }
  return false;
}

async function acquire(which: string): Promise<NodeGpu | string> {
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    return `the webgpu package cannot be loaded (${(e as Error).message.split('\n')[0]})`;
  }
  const attempts: { backend: string; flags: string[]; options: GPURequestAdapterOptions }[] = [];
  const compat = { featureLevel: 'compatibility' } as GPURequestAdapterOptions;
  if (which === 'null') attempts.push({ backend: 'null', flags: ['backend=null'], options: {} });
  else if (which === 'vulkan') attempts.push({ backend: 'vulkan', flags: ['backend=vulkan'], options: {} });
  else if (which === 'opengl') attempts.push({ backend: 'opengl (compatibility)', flags: ['backend=opengl'], options: compat });
  else {
    if (hasVulkanDriver()) attempts.push({ backend: 'vulkan', flags: ['backend=vulkan'], options: {} });
    attempts.push({ backend: 'opengl (compatibility)', flags: ['backend=opengl'], options: compat });
  }
  const tried: string[] = [];
  for (const a of attempts) {
    try {
      const gpu = dawn.create(a.flags);
      instances.push(gpu);
      const adapter = await gpu.requestAdapter(a.options);
      if (!adapter) {
        tried.push(`${a.backend}: no adapter`);
        continue;
      }
      const have = adapter.limits;
      const device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: have.maxStorageBufferBindingSize,
          maxBufferSize: have.maxBufferSize,
          maxStorageBuffersPerShaderStage: have.maxStorageBuffersPerShaderStage,
          maxComputeInvocationsPerWorkgroup: have.maxComputeInvocationsPerWorkgroup,
          maxComputeWorkgroupSizeX: have.maxComputeWorkgroupSizeX,
          maxComputeWorkgroupStorageSize: have.maxComputeWorkgroupStorageSize,
        },
      });
      return { device, backend: a.backend };
    } catch (e) {
      tried.push(`${a.backend}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return `no WebGPU adapter (${tried.join('; ')})${which === 'default' ? '; without a GPU, Mesa\'s EGL and GL drivers are needed (Debian: libegl1 libgl1-mesa-dri)' : ''}`;
}

/** The thread's device (made on first use), or a reason why there is none. */
export function nodeGpu(backend = process.env.AIC_WEBGPU_BACKEND ?? 'default'): Promise<NodeGpu | string> {
  let d = devices.get(backend);
  if (!d) devices.set(backend, (d = acquire(backend)));
  return d;
}

/** The device, or E_UNSUPPORTED saying why WebGPU is not available here. */
export async function webgpuDevice(backend?: string): Promise<NodeGpu> {
  const g = await nodeGpu(backend);
  return typeof g === 'string' ? fail('E_UNSUPPORTED', `wgsl: ${g}`) : g;
}

/** Why WebGPU cannot run here, or undefined when it can. */
export async function webgpuUnavailable(backend?: string): Promise<string | undefined> {
  const g = await nodeGpu(backend);
  return typeof g === 'string' ? g : undefined;
}

/** Destroy this thread's devices; true when it ever loaded Dawn (such a thread is better not terminated:
 * ending a worker that has loaded Dawn can crash the process, see conformance.ts). */
export async function releaseDevices(): Promise<boolean> {
  for (const d of devices.values()) {
    const g = await d;
    if (typeof g !== 'string') g.device.destroy();
  }
  const held = instances.length > 0;
  devices.clear();
  return held;
}
