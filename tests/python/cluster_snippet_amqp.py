import socketio
external_sio = socketio.KombuManager('amqp://guest:guest@127.0.0.1:5672//', write_only=True)
external_sio.emit('my event', data={'foo': 'bar'}, room='my room')
