import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { renderErrorPage } from './pages.view.js';

/** Answers HTTP errors of the HTML routes with a page instead of Nest's JSON body. */
@Catch(HttpException)
export class HtmlExceptionFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const res = host.switchToHttp().getResponse();
    const status = exception.getStatus();
    const body = exception.getResponse();
    const detail = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const message = Array.isArray(detail) ? detail.join(' ') : String(detail ?? exception.message);
    httpAdapter.setHeader(res, 'Content-Type', 'text/html; charset=utf-8');
    httpAdapter.reply(res, renderErrorPage(status, message), status);
  }
}
