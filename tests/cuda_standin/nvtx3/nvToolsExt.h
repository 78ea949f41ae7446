/* nvToolsExt.h (stand-in): NVTX ranges, counted but not recorded (tests/cuda_standin). */
#ifndef T2I_STANDIN_NVTX_H
#define T2I_STANDIN_NVTX_H
#ifdef __cplusplus
extern "C" {
#endif
int nvtxRangePushA(const char *message);
int nvtxRangePop(void);
#ifdef __cplusplus
}
#endif
#endif
