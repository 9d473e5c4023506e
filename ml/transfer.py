"""Transfer learning: training a new head on a frozen pretrained backbone. Plain functions."""

import numpy as np

from . import cnn


def fit_head_on_features(model, pixels, labels, train, validation, config, weights, callbacks):
    """Train only the softmax head of a model with a frozen pretrained backbone, on pooled
    features computed once (the "feature extraction" recipe of keras-io's transfer-learning
    guide): the backbone runs once per photo (and once per mirrored training photo, the one
    augmentation that keeps a city a city) instead of once per photo and epoch, so the head
    phase costs seconds. The trained weights are copied into the model's ``cities`` layer."""
    import keras

    pooled = keras.Model(model.input, model.get_layer("pool").output)
    mirrored = pixels[train][:, :, ::-1]
    train_features = np.concatenate(
        [cnn.predict(pooled, pixels[train]), cnn.predict(pooled, mirrored)]
    ).astype("float32")
    train_labels = np.concatenate([labels[train], labels[train]])
    validation_features = cnn.predict(pooled, pixels[validation]).astype("float32")
    dense = model.get_layer("cities")
    head = keras.Sequential(
        [
            keras.Input(shape=(train_features.shape[1],)),
            keras.layers.Dropout(model.get_layer("dropout").rate),
            keras.layers.Dense(dense.units, activation="softmax"),
        ]
    )
    head.compile(
        optimizer=keras.optimizers.Adam(config.head_learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    result = head.fit(
        train_features,
        train_labels,
        validation_data=(validation_features, labels[validation]),
        batch_size=config.batch_size,
        epochs=config.head_epochs,
        class_weight=weights,
        callbacks=callbacks,
        shuffle=True,
        verbose=0,
    )
    dense.set_weights(head.layers[-1].get_weights())
    return result
