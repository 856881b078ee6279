// A failed wx API call as the core reads it. WeChat's privacy refusals get codes of their own, so
// each feature can say what to do: errno 104 "<api>:fail privacy permission is not authorized"
// (the person declined), errno 112 "<api>:fail api scope is not declared in the privacy agreement"
// (the mini program's 用户隐私保护指引 lacks the API). WeChat's staff advise matching the errMsg
// too (developers.weixin.qq.com/community/develop/doc/000eeafb418d88d523505d3556b400): errno exists
// from base library 2.24.0 only.
import { PRIVACY_DENIED, PRIVACY_UNDECLARED } from '../core/failures';
import { BackendFailure } from '../core/ports';

export interface WxError {
  errMsg: string;
  errno?: number;
}

/** `code` names the failure when it is not a privacy refusal. */
export function wxFailure(error: WxError, code: string): BackendFailure {
  const { errMsg, errno } = error;
  if (errno === 104 || /privacy permission is not authorized/.test(errMsg)) return new BackendFailure(0, PRIVACY_DENIED, errMsg);
  if (errno === 112 || /not declared in the privacy agreement/.test(errMsg)) return new BackendFailure(0, PRIVACY_UNDECLARED, errMsg);
  return new BackendFailure(0, code, errMsg);
}
