import socketio
external_sio = socketio.RedisManager('redis://', write_only=True)
external_sio.emit('my event', data={'foo': 'bar'}, room='my room')
