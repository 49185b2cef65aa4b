import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';

export const USERNAME_MAX_LENGTH = 40;

/** A username: a string of 1 to 40 characters once surrounding whitespace is trimmed. */
@Injectable()
export class UsernamePipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string') {
      throw new BadRequestException('username is required and must be a string.');
    }
    const username = value.trim();
    const length = [...username].length;
    if (length < 1 || length > USERNAME_MAX_LENGTH) {
      throw new BadRequestException(
        `username must be 1 to ${USERNAME_MAX_LENGTH} characters long (surrounding spaces are ignored); got ${length}.`,
      );
    }
    return username;
  }
}
